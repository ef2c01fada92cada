"""Audit: whom the run wrongs (identity bias on the template suite and on your data), what a score means
(calibration), and how it holds up against obfuscation (robustness); compare two runs side by side."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core import demo
from core import runs
from core.audit import audit_run
from core.recalibrate import (MIN_CLASS_ROWS, calibrate_on_data, prevalence_state, reset_calibration,
                              set_prevalence)
from core.errors import CoreError
from ui import cache, charts
from ui.entry import require_app_entry
from ui.run_select import pick_run

require_app_entry()
st.title("Audit")
st.caption("Identity bias (subgroup, BPSN and BNSP AUC after Borkan et al. 2019), calibration and robustness of a "
           "run. Decisions use the run's saved thresholds.")
info = pick_run()


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def run_audit() -> None:
    labels = (cache.audit_report(str(info.path)) or {}).get("labels")
    with st.form("audit.form"):
        upload = st.file_uploader("Optional: a labelled file for bias on your own data (identity columns such as "
                                  "`muslim`, `female` with values in [0, 1], else identity words in the texts)",
                                  type=["csv", "tsv", "jsonl", "ndjson", "parquet"], key="audit.upload")
        label = st.selectbox("Label for the AUCs", ["(default: toxic, else the first)"] + (labels or []),
                             key="audit.label")
        robustness = st.checkbox("Robustness suite on validation texts (a minute or two for a transformer)",
                                 value=True, key="audit.robustness")
        sample = st.number_input("Validation texts for the robustness suite", 50, 5000, 600, 50, key="audit.sample")
        submitted = st.form_submit_button("Run the audit", type="primary")
    if not submitted:
        return
    status = st.status("Auditing…", expanded=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            data = None
            if upload is not None:  # the name's suffix tells the reader the format; the rest of it is not used
                data = Path(folder) / f"upload{Path(upload.name).suffix.lower()}"
                data.write_bytes(upload.getvalue())
            audit_run(info.path, data, None if label.startswith("(") else label, robustness=robustness,
                      sample=int(sample), progress=lambda step: status.write(f"{step}…"))
    except CoreError as exc:
        status.update(label="Audit failed", state="error")
        st.error(str(exc))
        return
    status.update(label="Audit finished", state="complete", expanded=False)


def template_section(report: dict) -> None:
    templates = report["templates"]
    bias = templates["bias"]
    st.subheader("Identity template suite")
    st.caption(f"{templates['sentences']:,} sentences written by the product: 53 identity terms in non-toxic and "
               f"toxic templates. AUCs are for `{templates['label']}`; a term fails when more than "
               f"{_pct(templates['flag_goal'])} of its non-toxic sentences are flagged by any label.")
    cols = st.columns(4)
    cols[0].metric("Most-flagged term, non-toxic", _pct(templates["max_flagged_share"]))
    cols[1].metric("Terms over the goal", len(templates["terms_over_goal"]))
    cols[2].metric("Final bias metric", _num(bias["final_metric"]))
    cols[3].metric("BPSN AUC power mean", _num(bias["bpsn_auc_power_mean"]))
    if templates["terms_over_goal"]:
        st.warning("Non-toxic sentences naming these identities are flagged too often: "
                   + ", ".join(templates["terms_over_goal"]) + ". Retrain with identity augmentation "
                   "(Train page, Trust options) and compare here.")
    table = pd.DataFrame([{"term": row["term"], "category": row["category"],
                           "non-toxic flagged": row["flagged_share"], "mean score (non-toxic)":
                           row["mean_score_non_toxic"], "toxic caught": row["toxic_caught_share"],
                           "subgroup AUC": row["subgroup_auc"], "BPSN AUC": row["bpsn_auc"],
                           "BNSP AUC": row["bnsp_auc"]} for row in templates["terms"]])
    st.dataframe(table, hide_index=True, key="audit.terms",
                 column_config={"non-toxic flagged": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                                   max_value=1)})
    st.plotly_chart(charts.bias_auc_bars(bias["subgroups"]), key="audit.bars")


def data_section(report: dict) -> None:
    data = report.get("data")
    if not data:
        return
    st.subheader("Your data")
    st.caption(f"{data['rows']:,} rows of `{Path(str(data['data'])).name}`; subgroups from {data['subgroups_from']}; "
               f"AUCs for `{data['label']}`.")
    if data.get("bias") is None:
        st.info(data.get("note", "No identity subgroup found."))
        return
    bias = data["bias"]
    cols = st.columns(4)
    cols[0].metric("Overall AUC", _num(bias["overall_auc"]))
    cols[1].metric("Subgroup AUC power mean", _num(bias["subgroup_auc_power_mean"]))
    cols[2].metric("BPSN AUC power mean", _num(bias["bpsn_auc_power_mean"]))
    cols[3].metric("Final bias metric", _num(bias["final_metric"]))
    st.dataframe(pd.DataFrame(bias["subgroups"]), hide_index=True, key="audit.data")
    st.plotly_chart(charts.bias_auc_bars(bias["subgroups"]), key="audit.data_bars")


def calibration_section(report: dict) -> None:
    calibration = report.get("calibration")
    st.subheader("Calibration")
    if not calibration or not calibration["splits"]:
        st.info("This run has no saved validation predictions to calibrate on.")
        return
    splits = list(calibration["splits"])
    source = calibration.get("source")
    if calibration["method"] == "none":
        st.caption("This run was trained with `\"calibration\": \"none\"`: its scores are reported raw. "
                   "ECE over 15 equal-mass bins.")
    elif source:
        st.caption(f"Maps refitted on `{source['data']}` ({source['rows']:,} labelled rows of your traffic, "
                   f"`{calibration['method']}`), saved as `calibration.json` and applied by Score, the CLI and file "
                   "scoring; flags stay the same. The validation and test rows below are scored with them too. "
                   "ECE over 15 equal-mass bins.")
    else:
        st.caption(f"Maps fitted on validation (`{calibration['method']}`), saved as `calibration.json` and "
                   "applied by Score, the CLI and file scoring; flags stay the same. ECE over 15 equal-mass bins.")
    rows = []
    for split in splits:
        part = calibration["splits"][split]
        for label in [*report["labels"], "macro"]:
            rows.append({"split": split, "label": label, "ECE raw": part["ece_before"][label],
                         "ECE calibrated": part.get("ece_after", {}).get(label)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="audit.ece")
    left, right = st.columns(2)
    split = left.selectbox("Split", splits, index=len(splits) - 1, key="audit.cal_split")
    label = right.selectbox("Label", report["labels"], key="audit.cal_label")
    st.plotly_chart(charts.reliability_chart(calibration["splits"][split]["reliability"][label]),
                    key="audit.reliability")
    traffic_form()
    prevalence_form()


def traffic_form() -> None:
    """Refit the maps on labelled rows of the user's traffic (when its labels relate to texts differently from
    the training data's, no shift of shares fixes the scores), or go back to the validation maps."""
    st.markdown("**Calibrate on your traffic**")
    st.caption("Validation is drawn from the training data. If your traffic is labelled differently (other "
               "annotators, other guidelines), upload labelled rows of it with the run's labels: the maps are "
               f"refitted on them; a label with fewer than {MIN_CLASS_ROWS} positive and negative rows keeps its "
               "validation map. The ECE to expect is measured on half of the file after fitting on the other half.")
    with st.form("audit.traffic"):
        upload = st.file_uploader("Labelled rows of your traffic", type=["csv", "tsv", "jsonl", "ndjson", "parquet"],
                                  key="audit.traffic_upload")
        method = st.selectbox("Method", ["platt", "temperature", "isotonic"], key="audit.traffic_method")
        refit = st.form_submit_button("Calibrate on this file")
        back = st.form_submit_button("Back to the validation maps")
    if not (refit or back):
        return
    if refit and upload is None:
        st.error("Choose a labelled file first.")
        return
    for key in [k for k in st.session_state if str(k).startswith("audit.prevalence.")]:
        del st.session_state[key]  # the share form below starts again from the shares of the maps now in use
    try:
        if back:
            reset_calibration(info.path)
            st.success("Back to the maps fitted on validation; the ECE table above shows them from the next rerun.")
            return
        progress = st.progress(0.0, text="Scoring the file…")
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder) / f"upload{Path(upload.name).suffix.lower()}"
            data.write_bytes(upload.getvalue())
            found = calibrate_on_data(info.path, data, method, name=upload.name,
                                      progress=lambda done, total: progress.progress(done / total,
                                                                                     text=f"Scored {done:,} of {total:,}"))
    except CoreError as exc:
        st.error(str(exc))
        return
    progress.empty()
    st.success(f"Calibrated on {found['rows']:,} rows of `{found['data']}`: expected macro ECE "
               f"{found['ece_expected']['macro']:.3f}, against {found['ece_before']['macro']:.3f} with the maps it "
               "replaced. Flags are unchanged.")
    if found["kept"]:
        st.info("Kept the validation map (too few rows to refit): "
                + ", ".join(f"{label} ({why})" for label, why in found["kept"].items()) + ".")
    st.dataframe(pd.DataFrame([{"label": label, "ECE raw": found["ece_raw"][label],
                                "ECE with the maps replaced": found["ece_before"][label],
                                "ECE expected after the refit": found["ece_expected"][label]}
                               for label in [*found["ece_raw"]]]), hide_index=True, key="audit.traffic_ece")


def prevalence_form() -> None:
    """The label shares calibrated scores are probabilities at: the validation split's, or the user's traffic's."""
    try:
        state = prevalence_state(info.path)
    except CoreError as exc:
        st.error(str(exc))
        return
    if state is None or state["prevalence_fitted"] is None:
        return
    labels, fitted, moved = state["labels"], state["prevalence_fitted"], state["prevalence"] or {}
    where = "file" if state.get("source") else "validation"  # the rows the maps were fitted on
    st.markdown("**Calibrate to your traffic's label shares**")
    st.caption(f"A calibrated score is a probability at the label shares of the rows its maps were fitted on (the "
               f"{'calibration file' if where == 'file' else 'validation split'}). Training data is often enriched "
               "in abuse; give the shares of the traffic you will score and Score, the CLI, the API and exports "
               "report probabilities at those shares (flags stay the same)."
               + (f" Now moved to: {', '.join(f'{k} {v:.4g}' for k, v in moved.items())}." if moved else ""))
    with st.form("audit.prevalence"):
        columns = st.columns(min(len(labels), 6))
        shares = {label: columns[i % len(columns)].number_input(
            f"{label} ({where} {fitted[label]:.3f})", min_value=0.0001, max_value=0.9999,
            value=float(moved.get(label, min(max(fitted[label], 0.0001), 0.9999))), step=0.01, format="%.4f",
            key=f"audit.prevalence.{label}") for i, label in enumerate(labels)}
        apply = st.form_submit_button("Calibrate to these shares")
        reset = st.form_submit_button(f"Back to the {where} shares")
    if not (apply or reset):
        return
    if reset:
        wanted = None
    elif state["task"] == "multiclass":
        wanted = shares  # every class, summing to 1
    else:  # only the labels the user moved: the others keep their validation share exactly
        wanted = {k: v for k, v in shares.items() if abs(v - fitted[k]) > 1e-4 or k in moved} or None
    try:
        set_prevalence(info.path, wanted)
    except CoreError as exc:
        st.error(str(exc))
        return
    st.success("Calibrated to " + (", ".join(f"{k} {v:.4g}" for k, v in wanted.items()) if wanted
                                   else f"the {where} shares") + "; the ECE table above shows them from the next rerun.")


def robustness_section(report: dict) -> None:
    result = report.get("robustness")
    if not result:
        return
    st.subheader("Robustness")
    st.caption(f"{result['rows']} validation texts, each perturbation applied to the insults in them (else their "
               f"longest words); clean macro ROC-AUC {_num(result['clean_macro_roc_auc'])}. Scored with the run's "
               f"normalisation (`{report.get('normalize', 'none')}`).")
    other = report.get("robustness_normalised") or report.get("robustness_unnormalised")
    other_name = "with normalisation" if "robustness_normalised" in report else "without normalisation"
    rows = []
    for i, row in enumerate(result["perturbations"]):
        entry = {"perturbation": row["perturbation"], "texts changed": row["texts_changed"],
                 "macro ROC-AUC": row["macro_roc_auc"], "AUC change": row["auc_change"],
                 "flags flipped": row["flags_flipped"], "example": row["example"]}
        if other:
            entry[f"AUC change {other_name}"] = other["perturbations"][i]["auc_change"]
        rows.append(entry)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="audit.robustness_table")


def compare_section(report: dict) -> None:
    # runs that were audited: their files exist (the reports are read only for the run picked)
    others = [r for r in demo.usable_runs() if r.name != info.name
              and any((r.path / runs.AUDIT / name).exists() for name in (runs.AUDIT_REPORT, runs.AUDIT_TEMPLATES))]
    if not others:
        return
    st.subheader("Compare with another run")
    name = st.selectbox("Run", ["—"] + [r.name for r in others], key="audit.compare")
    if name == "—":
        return
    other = cache.audit_report(str(next(r.path for r in others if r.name == name)))
    if other is None:
        st.info(f"{name} has no readable audit report.")
        return

    def figures(rep: dict) -> dict:
        templates, calibration = rep["templates"], rep.get("calibration") or {}
        split = "test" if "test" in (calibration.get("splits") or {}) else "val"
        ece = (calibration.get("splits") or {}).get(split, {})
        robust = rep.get("robustness") or {}
        worst = min((p["auc_change"] for p in robust.get("perturbations", []) if p["auc_change"] is not None),
                    default=None)
        return {"most-flagged term (non-toxic)": _pct(templates["max_flagged_share"]),
                "terms over the goal": len(templates["terms_over_goal"]),
                "final bias metric": _num(templates["bias"]["final_metric"]),
                "BPSN AUC power mean": _num(templates["bias"]["bpsn_auc_power_mean"]),
                f"macro ECE raw ({split})": _num((ece.get("ece_before") or {}).get("macro")),
                f"macro ECE calibrated ({split})": _num((ece.get("ece_after") or {}).get("macro")),
                "worst perturbation AUC change": _num(worst)}

    st.dataframe(pd.DataFrame({info.name: figures(report), name: figures(other)}), key="audit.compare_table")
    shares = pd.DataFrame({info.name: {r["term"]: r["flagged_share"] for r in report["templates"]["terms"]},
                           name: {r["term"]: r["flagged_share"] for r in other["templates"]["terms"]}})
    st.caption("Share of each term's non-toxic sentences flagged")
    st.dataframe(shares.sort_values(info.name, ascending=False), key="audit.compare_terms")


run_audit()
report = cache.audit_report(str(info.path))
if report is None:
    st.info("This run has not been audited yet. Every new classifier run audits itself on the template suite at "
            "the end of training; press **Run the audit** for the full report.")
    st.stop()
template_section(report)
data_section(report)
calibration_section(report)
robustness_section(report)
compare_section(report)
