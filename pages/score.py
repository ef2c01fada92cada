"""Score: paste comments for per-label probabilities and flags, or score a whole file in chunks."""

import shlex
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core.scoring.batch import estimate_rows, neutralise_frame, read_chunks, score_file
from core.data import guess_text_column
from core.data.io import read_bytes
from core.errors import CoreError
from core.evaluation.calibration import describe as describe_calibration
from core.evaluation.versus import baseline_comparison, worse_summary
from core.runs import CALIBRATION, undertrained_note
from core.scoring import backends, save_backend, saved_backend
from ui import charts
from ui.run_select import load_scorer, pick_run
from ui.entry import require_app_entry

require_app_entry()
MAX_UPLOAD_MB = 200

st.title("Score")
info = pick_run()

backend, calibrated = saved_backend(info.path), True
with st.expander("Advanced options: scoring backend, calibrated scores"):
    if info.model_kind != "tfidf":
        names, descriptions = backends.names(), backends.describe()
        backend = st.radio(
            "Scoring backend", names, index=names.index(backend), horizontal=True, key="score.backend",
            help=" ".join(f"**{name}**: {text}." for name, text in descriptions.items())
            + " Speeds per CPU are in bench/RESULTS.md.")
        if backend != saved_backend(info.path) and st.button("Save as this run's default"):
            save_backend(info.path, backend)
            st.success(f"Saved: this run scores with {backend!r} everywhere.")
    else:
        st.caption("A TF-IDF run has one backend (exact).")
    if (info.path / CALIBRATION).exists():
        calibrated = st.toggle(
            "Calibrated scores", value=True, key="score.calibrated",
            help="Scores mapped on validation so that 0.3 means about 30% of such comments are toxic "
                 "(`calibration.json`; see the Audit page). Flags are the same either way.")
    scorer = load_scorer(info, backend, calibrated)
    if scorer.backend_note:
        st.caption(scorer.backend_note)
undertrained = undertrained_note(info)
if undertrained:
    st.warning(undertrained, icon=":material/warning:")
lost = worse_summary(baseline_comparison(info.metrics))
if lost:  # the same warning as on Evaluate: scores from this run are weaker than a TF-IDF model's there
    st.warning(f"This run is worse than the TF-IDF baseline trained on its own data on: {lost}. Its scores for "
               "those labels are less reliable (the Evaluate page offers a blend with the TF-IDF model).",
               icon=":material/warning:")



def _preview(path: Path, rows: int = 20) -> pd.DataFrame:
    """The first rows of a scored file, read back from what the download holds."""
    if path.suffix == ".csv":
        return pd.read_csv(path, nrows=rows, dtype=str, keep_default_na=False)
    return pd.read_json(path, lines=True, nrows=rows, dtype=False)


paste_tab, file_tab, api_tab = st.tabs(["Paste text", "Score a file", "From other programs"])

with api_tab:
    # shlex.quote: run names are slugs, but a models folder given by path could hold a space
    st.markdown("Serve this run as an HTTP API (micro-batched; add `--token-file FILE` before listening beyond this "
                "machine), then score from any program:")
    st.code(f"python -m core serve --run {shlex.quote(info.name)}", language="bash")
    st.code("curl -s -X POST http://127.0.0.1:8000/v1/score -H 'Content-Type: application/json' \\\n"
            "     -d '{\"texts\": [\"you are a stupid idiot\", \"thanks for the fix\"]}'", language="bash")
    st.caption("Also `GET /v1/model`, `POST /v1/explain`, `GET /metrics` (Prometheus) and the OpenAPI docs at "
               "http://127.0.0.1:8000/docs. Without a server: `python -m core export --run "
               f"{shlex.quote(info.name)} --out bundle/`, then `python bundle/score.py \"text\"`.")

with paste_tab:
    with st.form("score.form"):
        text = st.text_area("Comment(s)", height=140, placeholder="Paste a comment to score…", key="score.text")
        per_line = st.checkbox("One comment per line", key="score.per_line")
        submitted = st.form_submit_button("Score", type="primary")
    if submitted:
        texts = [line for line in text.splitlines() if line.strip()] if per_line else [text]
        texts = [t for t in texts if t.strip()]
        if not texts:
            st.warning("Nothing to score: paste a comment first.")
        else:
            results = scorer.score(texts)
            st.caption(f"Scored {len(texts)} text(s) in {scorer.last_seconds * 1000:.1f} ms "
                       f"({scorer.model_kind}, {scorer.backend}); "
                       + (f"calibrated scores ({describe_calibration(scorer.calibration)})" if scorer.calibration
                          else "raw scores") + "; thresholds from "
                       "`thresholds.json` (tune them on the Evaluate page).")
            table = pd.DataFrame([{"text": r.text, "flagged": ", ".join(r.flagged) or "—", **r.probabilities}
                                  for r in results])
            if len(results) > 1:  # narrow number columns, so that every label fits beside the text
                st.dataframe(table, hide_index=True, column_config={
                    "text": st.column_config.TextColumn(width="medium"),
                    **{label: st.column_config.NumberColumn(format="%.3f", width="small") for label in scorer.labels}})
            # formula-like cells neutralised as in file scoring; CRLF rows so a line break inside a cell stays quoted
            st.download_button("Download these scores (CSV)",
                               neutralise_frame(table).to_csv(index=False, lineterminator="\r\n").encode("utf-8"),
                               file_name=f"{info.name}-scores.csv", mime="text/csv", key="score.download_pasted")
            for i, result in enumerate(results[:20]):
                with st.container(border=True):
                    st.text(result.text[:500] + ("…" if len(result.text) > 500 else ""))
                    if result.flagged:
                        st.error("Flagged: " + ", ".join(result.flagged))
                    else:
                        st.success("Not flagged")
                    if result.truncated:
                        st.warning(f"Truncated: {result.tokens} tokens, the model reads the first "
                                   f"{scorer.max_length}.")
                    st.plotly_chart(charts.probability_bars(result.probabilities, scorer.score_thresholds),
                                    key=f"bars.{i}")
                    links = st.columns(2)
                    links[0].page_link("pages/explain.py", label="Explain this score", icon=":material/visibility:",
                                       query_params={"run": info.name, "text": result.text[:1500]})
                    if result.flagged:
                        links[1].page_link("pages/rewrite.py", label="Suggest a civil rewrite",
                                           icon=":material/edit_note:",
                                           query_params={"run": info.name, "text": result.text[:1500]})
            if len(results) > 20:
                st.caption(f"Charts for the first 20 texts; the table above has all {len(results)}.")

with file_tab:
    upload = st.file_uploader(f"CSV, TSV, JSONL or Parquet (up to {MAX_UPLOAD_MB} MB)",
                              type=["csv", "tsv", "jsonl", "ndjson", "parquet"], key="score.upload")
    if upload is not None:
        try:
            raw, _ = read_bytes(upload.getvalue(), upload.name, MAX_UPLOAD_MB * 2**20)
            head = next(read_chunks(raw, upload.name, 50, [], MAX_UPLOAD_MB * 2**20))
        except (CoreError, StopIteration) as exc:
            st.error(str(exc) or f"{upload.name} has no rows.")
            st.stop()
        columns = [str(c) for c in head.columns]
        guess = guess_text_column(columns) or columns[0]
        text_col = st.selectbox("Text column", columns, index=columns.index(guess), key="score.text_col")
        out_format = st.radio("Output", ["csv", "jsonl"], horizontal=True)
        st.caption(f"About {estimate_rows(raw, upload.name):,} rows. CSV cells that a spreadsheet would run as "
                   "formulas (=, +, -, @) are prefixed with ' in the download.")
        if st.button("Score file", type="primary"):
            bar = st.progress(0.0, text="Scoring…")
            with tempfile.TemporaryDirectory(prefix="cleanspeech-") as folder:
                dest = Path(folder) / f"{Path(upload.name).stem}-scored.{out_format}"
                try:
                    result = score_file(scorer, raw, upload.name, text_col, dest, max_bytes=MAX_UPLOAD_MB * 2**20,
                                        progress=lambda done, total: bar.progress(
                                            min(done / max(total, 1), 1.0), text=f"{done:,} / ~{total:,} rows"))
                except CoreError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["score.download"] = (dest.name, dest.read_bytes())
                    bar.progress(1.0, text=f"Done: {result.rows:,} rows in {result.seconds:.1f} s")
                    for warning in result.warnings:
                        st.warning(warning)
                    st.success(f"{result.flagged_rows:,} of {result.rows:,} rows flagged; "
                               f"{result.truncated_rows:,} truncated.")
                    st.session_state["score.preview"] = _preview(dest)
        if "score.download" in st.session_state:
            name, payload = st.session_state["score.download"]
            preview = st.session_state.get("score.preview")
            if preview is not None and len(preview):
                st.caption(f"The first {len(preview)} rows of {name}:")
                st.dataframe(preview, hide_index=True, key="score.preview_table")
            st.download_button(f"Download {name}", payload, file_name=name,
                               mime="text/csv" if name.endswith(".csv") else "application/jsonl")
