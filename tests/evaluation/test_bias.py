"""Identity bias metrics against hand computation and sklearn, and the template audit (core.evaluation.bias)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from core.data.identity import TERMS
from core.errors import ConfigError
from core.evaluation.bias import (audit_label, bias_summary, bnsp_auc, bpsn_auc, power_mean, subgroup_auc,
                                  template_audit)

# eight rows: the first four mention the subgroup
SCORES = np.array([0.9, 0.6, 0.7, 0.2, 0.8, 0.3, 0.4, 0.1])
TRUTH = np.array([1, 0, 0, 0, 1, 1, 0, 0])
MASK = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)


def _pairs_auc(pos, neg):
    """AUC as the share of (positive, negative) pairs ranked right, ties half: the definition, by hand."""
    return np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg])


def test_the_three_aucs_by_hand():
    # subgroup: positive 0.9 against negatives 0.6, 0.7, 0.2 -> 3/3
    assert subgroup_auc(SCORES, TRUTH, MASK) == 1.0
    # BPSN: background positives 0.8, 0.3 against subgroup negatives 0.6, 0.7, 0.2 -> (3 + 1) / 6
    assert bpsn_auc(SCORES, TRUTH, MASK) == pytest.approx(4 / 6)
    assert bpsn_auc(SCORES, TRUTH, MASK) == pytest.approx(_pairs_auc([0.8, 0.3], [0.6, 0.7, 0.2]))
    # BNSP: subgroup positive 0.9 against background negatives 0.4, 0.1 -> 2/2
    assert bnsp_auc(SCORES, TRUTH, MASK) == 1.0


def test_the_aucs_equal_sklearn_on_their_defining_subsets():
    rng = np.random.default_rng(0)
    scores, truth = rng.random(400), (rng.random(400) < 0.3).astype(int)
    mask = rng.random(400) < 0.2
    assert subgroup_auc(scores, truth, mask) == pytest.approx(roc_auc_score(truth[mask], scores[mask]))
    bpsn = (~mask & (truth == 1)) | (mask & (truth == 0))
    assert bpsn_auc(scores, truth, mask) == pytest.approx(roc_auc_score(truth[bpsn], scores[bpsn]))
    bnsp = (~mask & (truth == 0)) | (mask & (truth == 1))
    assert bnsp_auc(scores, truth, mask) == pytest.approx(roc_auc_score(truth[bnsp], scores[bnsp]))


def test_power_mean_by_hand_and_its_edge_cases():
    assert power_mean([0.9, 0.8]) == pytest.approx(((0.9 ** -5 + 0.8 ** -5) / 2) ** (-1 / 5))
    assert power_mean([0.9, 0.8]) < np.mean([0.9, 0.8])  # p = -5 leans to the worst subgroup
    assert power_mean([0.7, None]) == pytest.approx(0.7)  # undefined AUCs are left out
    assert power_mean([None]) is None and power_mean([0.0, 0.9]) == 0.0


def test_summary_table_and_final_metric():
    other = np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=bool)
    one_class = np.array([0, 1, 1, 0, 0, 0, 0, 0], dtype=bool)  # only negatives: no subgroup AUC
    summary = bias_summary(SCORES, TRUTH, {"group": MASK, "other": other, "calm": one_class}, threshold=0.5)
    rows = {row["subgroup"]: row for row in summary["subgroups"]}
    assert rows["group"]["size"] == 4 and rows["group"]["positives"] == 1
    assert rows["group"]["false_positive_rate"] == pytest.approx(2 / 3)  # 0.6 and 0.7 of 0.6, 0.7, 0.2
    assert rows["group"]["mean_score_non_toxic"] == pytest.approx(0.5)
    assert rows["calm"]["subgroup_auc"] is None
    assert summary["subgroups"][0]["subgroup"] in ("group", "calm", "other")
    worst = [min(v for v in (r["subgroup_auc"], r["bpsn_auc"], r["bnsp_auc"]) if v is not None)
             for r in summary["subgroups"]]
    assert worst == sorted(worst)  # worst subgroup first
    overall = roc_auc_score(TRUTH, SCORES)
    means = [summary[k] for k in ("subgroup_auc_power_mean", "bpsn_auc_power_mean", "bnsp_auc_power_mean")]
    assert summary["final_metric"] == pytest.approx(0.25 * overall + 0.25 * sum(means))


def _keyword_model(words: set[str], labels: list[str]):
    """A fake run: every label scores 0.9 when the text holds one of `words`, else 0.1."""
    def predict(texts):
        hit = np.array([any(w in t.lower().split() or w in t.lower() for w in words) for t in texts], dtype=float)
        return np.repeat((0.1 + 0.8 * hit)[:, None], len(labels), axis=1)
    return predict


def test_template_audit_finds_the_terms_a_model_over_flags():
    labels = ["toxic", "insult"]
    thresholds = {"toxic": 0.5, "insult": 0.5}
    abuse = {"hate", "stupid", "idiot", "idiots", "moron", "trash", "loser", "kill", "die", "freak", "crap",
             "shit", "animals", "scum", "fuck", "stupid", "bastard", "disgusting", "beaten", "disease", "burn"}
    report = template_audit(_keyword_model(abuse | {"gay"}, labels), labels, "multilabel", thresholds)
    terms = {row["term"]: row for row in report["terms"]}
    assert report["sentences"] == 3180 and len(terms) == len(TERMS) and report["label"] == "toxic"
    assert report["terms_over_goal"] == ["gay"] and report["max_flagged_share"] == 1.0
    assert terms["gay"]["flagged_share_per_label"] == {"toxic": 1.0, "insult": 1.0}
    assert terms["gay"]["bpsn_auc"] < 0.6 and terms["muslim"]["flagged_share"] == 0.0
    assert report["terms"][0]["term"] == "gay"  # the most-flagged term first
    fair = template_audit(_keyword_model(abuse, labels), labels, "multilabel", thresholds)
    assert fair["terms_over_goal"] == [] and fair["bias"]["bpsn_auc_power_mean"] > 0.9


def test_multiclass_audits_the_score_of_not_being_clean():
    labels = ["hate", "offensive", "neither"]
    assert audit_label(labels, "multiclass", None) == "not neither"
    assert audit_label(["a", "b"], "multiclass", None) == "a"
    assert audit_label(["severe", "toxic"], "multilabel", None) == "toxic"

    def predict(texts):
        hit = np.array(["hate" in t.lower() for t in texts], dtype=float)
        return np.stack([0.1 + 0.7 * hit, 0.1 * np.ones(len(texts)), 0.8 - 0.7 * hit], axis=1)

    report = template_audit(predict, labels, "multiclass", {label: 0.5 for label in labels})
    assert report["label"] == "not neither" and report["max_flagged_share"] == 0.0
    with pytest.raises(ConfigError, match=r"label 'threat' is not one of the run's labels \['hate'"):
        audit_label(labels, "multiclass", "threat")
