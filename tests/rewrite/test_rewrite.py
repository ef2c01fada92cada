"""Rewrite: Gemini response handling (fake client and the real SDK over a mock transport), key hygiene,
verification, the local rewriter, and the CLI."""

import json
import logging
from types import SimpleNamespace

import httpx2 as httpx  # google-genai 3.x talks through httpx2, a drop-in fork of httpx
import pytest
from google.genai import types

from core.cli import main
from core.errors import ConfigError, RewriteError
from core.scoring.scorer import Scorer
from core.rewrite import rewrite
from core.rewrite.gemini import GeminiRewriter, parse_response
from core.rewrite.local import rewrite_local
from core.rewrite.prompts import SYSTEM_INSTRUCTION

FAKE_KEY = "AIzaFAKE-test-key-0123456789"


def response(*texts, finish="STOP", block=None):
    return types.GenerateContentResponse(
        candidates=[types.Candidate(content=types.Content(parts=[types.Part(text=t)], role="model"),
                                    finish_reason=finish) for t in texts],
        prompt_feedback=types.GenerateContentResponsePromptFeedback(block_reason=block) if block else None)


class FakeClient:
    """Stands in for genai.Client: returns canned responses or raises, and records the calls."""

    def __init__(self, outcome):
        self.outcome, self.calls = outcome, []
        self.models = SimpleNamespace(generate_content=self._generate)

    def _generate(self, **kwargs):
        self.calls.append(kwargs)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class KeywordScorer:
    """A transparent stand-in model: toxic/insult = 0.9 when an insult word is present, else 0.1."""

    labels = ["toxic", "insult"]
    thresholds = {"toxic": 0.5, "insult": 0.5}

    def score(self, texts):
        results = []
        for text in texts:
            p = 0.9 if any(w in text.lower() for w in ("idiot", "stupid", "garbage")) else 0.1
            probs = {label: p for label in self.labels}
            results.append(SimpleNamespace(probabilities=probs, flagged=[k for k in probs if p >= 0.5]))
        return results


def test_canned_candidates_are_verified_and_ranked():
    scorer = KeywordScorer()
    fake = FakeClient(response("Your edit is poor.", "you stupid idiot, I hate you", "Your edit is poor."))
    found = rewrite(scorer, "you stupid idiot, your edit is garbage", "gemini", candidates=3, client=fake)
    assert [c.text for c in found][0] == "Your edit is poor." and len(found) == 2  # duplicates dropped
    best, worst = found
    assert best.accepted and not best.flagged_after and 0 < best.similarity <= 1
    assert not worst.accepted and worst.flagged_after
    assert best.before == worst.before and best.before["toxic"] > best.after["toxic"]
    call = fake.calls[0]
    assert call["config"].system_instruction == SYSTEM_INSTRUCTION and call["config"].candidate_count == 3
    assert "you stupid idiot" in call["contents"]


@pytest.mark.parametrize("outcome, match", [
    (response(block="PROHIBITED_CONTENT"), r"Gemini blocked this comment \(block reason: PROHIBITED_CONTENT\)"),
    (response("", finish="SAFETY"), "Gemini stopped for safety reasons"),
    (response(""), "Gemini returned an empty answer"),
    (types.GenerateContentResponse(candidates=[]), "Gemini returned an empty answer"),
])
def test_blocked_and_empty_answers_are_plain_errors(outcome, match):
    with pytest.raises(RewriteError, match=match):
        GeminiRewriter(client=FakeClient(outcome)).rewrite("you idiot")


def test_failures_are_mapped_and_never_show_the_key():
    from google.genai import errors

    cases = [(errors.ClientError(403, {"error": {"message": f"key {FAKE_KEY} invalid", "status": "PERMISSION_DENIED"}}),
              "Gemini refused the API key"),
             (errors.ClientError(429, {"error": {"message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
              "quota or rate limit"),
             (errors.ServerError(503, {"error": {"message": "busy", "status": "UNAVAILABLE"}}), "Gemini is unavailable"),
             (httpx.ReadTimeout("timed out"), "did not answer in time"),
             (httpx.ConnectError("no route"), "could not reach Gemini")]
    for exc, match in cases:
        rewriter = GeminiRewriter(FAKE_KEY, client=FakeClient(exc))
        with pytest.raises(RewriteError, match=match) as info:
            rewriter.rewrite("you idiot")
        assert FAKE_KEY not in str(info.value)
    with pytest.raises(RewriteError, match="no Gemini API key"):
        GeminiRewriter(None)


def test_real_sdk_request_and_parsing_over_a_mock_transport(tfidf_run, isolated_dirs, caplog):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "I disagree with you."}]},
                                "finishReason": "STOP"},
                               {"content": {"role": "model", "parts": [{"text": "Your edit is wrong."}]},
                                "finishReason": "STOP"}]}
        return httpx.Response(200, json=body)

    caplog.set_level(logging.DEBUG)
    rewriter = GeminiRewriter(FAKE_KEY, model="gemini-test-model", attempts=1,
                              client_args={"transport": httpx.MockTransport(handler)})
    assert rewriter.rewrite("you are a stupid idiot", candidates=2) == ["I disagree with you.", "Your edit is wrong."]
    request = seen[0]
    assert request.url.path.endswith("/models/gemini-test-model:generateContent")
    payload = json.loads(request.content)
    assert payload["systemInstruction"]["parts"][0]["text"] == SYSTEM_INSTRUCTION
    assert payload["generationConfig"]["candidateCount"] == 2
    assert {s["category"] for s in payload["safetySettings"]} >= {"HARM_CATEGORY_HARASSMENT",
                                                                  "HARM_CATEGORY_HATE_SPEECH"}
    assert all(s["threshold"] == "BLOCK_NONE" for s in payload["safetySettings"])
    assert "you are a stupid idiot" in payload["contents"][0]["parts"][0]["text"]
    assert FAKE_KEY not in str(request.url)  # sent as a header, not in the URL
    # the key is written nowhere: not under the models folder, not in any log record
    assert FAKE_KEY not in caplog.text
    for path in isolated_dirs[0].rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_real_sdk_error_response_is_mapped(caplog):
    def handler(request):
        return httpx.Response(400, json={"error": {"code": 400, "message": f"API key not valid: {FAKE_KEY}",
                                                   "status": "INVALID_ARGUMENT"}})

    rewriter = GeminiRewriter(FAKE_KEY, attempts=1, client_args={"transport": httpx.MockTransport(handler)})
    with pytest.raises(RewriteError, match="Gemini refused the API key") as info:
        rewriter.rewrite("you idiot")
    assert FAKE_KEY not in str(info.value)


def test_local_rewriter_clears_flags_on_sample_toxic_comments(tfidf_run):
    scorer = Scorer.from_run(tfidf_run)
    comments = ["You are a stupid idiot", "shut up you worthless moron", "you pathetic loser, get lost",
                "what a disgusting fucking troll"]
    flagged = [c for c in comments if scorer.score([c])[0].flagged]
    assert len(flagged) >= 3
    results = [rewrite_local(scorer, c) for c in flagged]
    assert sum(r.passed for r in results) >= len(flagged) - 1
    for original, result in zip(flagged, results):
        assert result.changes and result.text != original and len(result.changes) == result.steps
        before, after = scorer.score([original])[0], scorer.score([result.text])[0]
        assert len(after.flagged) <= len(before.flagged)
        assert result.passed == (not after.flagged)


def test_rewrite_arguments_are_checked(tfidf_run):
    scorer = Scorer.from_run(tfidf_run)
    with pytest.raises(ConfigError, match="backend='claude' is not known"):
        rewrite(scorer, "x", "claude")
    with pytest.raises(RewriteError, match="the text is empty"):
        rewrite(scorer, "  ")
    with pytest.raises(ConfigError, match="candidates=9 is out of range"):
        rewrite(scorer, "x", "gemini", candidates=9)


def test_rewrite_cli_local(tfidf_run, capsys, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    assert main(["rewrite", "--run", tfidf_run.name, "you", "stupid", "idiot"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["backend"] == "local" and len(result["candidates"]) == 1
    assert set(result["candidates"][0]) >= {"text", "accepted", "similarity", "before", "after", "changes"}
    assert main(["rewrite", "--run", tfidf_run.name, "--backend", "gemini", "you idiot"]) == 2
    assert "no Gemini API key" in capsys.readouterr().err


def test_parse_response_keeps_distinct_texts():
    assert parse_response(response(" a ", "a", "b")) == ["a", "b"]


@pytest.mark.parametrize("before,after,original", [
    ("You are a unhelpful person", "You are an unhelpful person", "You are a worthless idiot"),
    ("an user", "a user", "an troll"),  # the vowel letter, not the sound, would say "an"
    ("She is an stuff", "She is a stuff", "She is an shit"),
    ("I saw a owl and an idiot", "I saw a owl and an idiot", "I saw a owl and an idiot"),  # the user's own text
    ("cool. nice work", "Cool. nice work", "Fucking cool. nice work"),  # first word removed: a new capital
    ("idiot. fine", "Idiot. Fine", "Stupid idiot. Damn fine"),
])
def test_tidy_fixes_articles_and_capitals_only_where_an_edit_made_them_wrong(before, after, original):
    from core.rewrite.local import tidy

    assert " ".join(tidy(before.split(), original.split())) == after


def test_phrases_are_replaced_whole_and_removed_words_leave_no_stray_punctuation():
    from core.rewrite.local import _phrase, _place

    words = "and I will fucking , you piece of crap.".split()
    assert _phrase(words, 8) == (6, 9, "awful person.", "'piece of crap' -> 'awful person'")
    assert _phrase("what the hell is this".split(), 2) == (1, 3, "", "removed 'the hell'")
    assert _phrase("go to hell, troll".split(), 2) == (1, 3, "away,", "'to hell' -> 'away'")
    assert _phrase("the hell".split(), 1) is None  # no question word before it: only the word goes
    assert _place("and I will fucking, piece".split(), 3, 4, ",") == ("and I will, piece".split(), 0)
    assert _place("fucking, go".split(), 0, 1, ",") == (["go"], 0)  # nothing before: the comma goes too
    assert _place("a dumb idea".split(), 1, 2, "mistaken") == ("a mistaken idea".split(), 1)
    # a phrase's replacement becomes separate words, so explanations (split on spaces) line up with them
    assert _place("you piece of crap.".split(), 1, 4, "awful person.") == ("you awful person.".split(), 2)


def test_local_rewrites_read_as_english(tfidf_run):
    scorer = Scorer.from_run(tfidf_run)
    for text in ["You are a worthless idiot and a fucking moron, you piece of crap.",
                 "What the hell is this garbage edit, you stupid clown?"]:
        result = rewrite_local(scorer, text)
        out = result.text
        assert " ," not in out and " ." not in out and "  " not in out and ",," not in out
        assert " a unhelpful" not in out and " a uninformed" not in out and " an person" not in out
        assert out[:1].isupper() and "piece of poor" not in out


def test_a_rejected_candidate_says_why_and_what_to_try():
    from core.rewrite.verify import Candidate, verdict_notes

    def candidate(text="you are a person", source="local", flagged=("insult",), similarity=0.9):
        return Candidate(text, source, {}, {}, list(flagged), similarity, 1.0,
                         not flagged and similarity >= 0.6)

    assert verdict_notes(candidate(flagged=()), 0.6) == ([], "")
    why, tip = verdict_notes(candidate(), 0.6)
    assert why == ["still flagged: insult"] and "try Gemini (set GEMINI_API_KEY)" in tip
    why, tip = verdict_notes(candidate(source="gemini", similarity=0.4), 0.6)
    assert why == ["still flagged: insult", "meaning drifted (similarity 0.40 < 0.60)"]
    assert "ask for more candidates" in tip and "lower the similarity floor" in tip
    assert verdict_notes(candidate(text=" ", flagged=(), similarity=0.1), 0.6)[0] == [
        "nothing was left after taking the abuse out"]
