"""Experiment: which head reads the bundled MiniLM best on Jigsaw: the [CLS] pooler or mean pooling?

all-MiniLM-L6-v2 was trained by sentence-transformers with mean pooling, so its [CLS] output was never trained
to summarise a text; AutoModelForSequenceClassification's head (pooler on [CLS]) has to learn that from the
labelled rows. This trains the same encoder twice with a hand-written loop that differs only in the head:
  cls:  BertModel's pooler (dense + tanh on [CLS]) -> dropout -> linear
  mean: mean of the last layer over real tokens -> dropout -> linear
Same rows (the default recipe's 90/10 split of ../shared/data/jigsaw/train.csv, seed 42), batch 16,
length-grouped batches, AdamW lr 1e-4 (fused), warm-up 0.1, linear decay, clipping 1.0, inverse-frequency
pos_weight capped at 30, fast CPU dropout, max_length 128. Prints test.csv macro ROC-AUC after each epoch
(test.csv is only reported, never used to choose anything).

Run: .venv/bin/python bench/pooling_quality.py cls|mean [EPOCHS=2] [MAX_LENGTH=128] [ROWS=all] [SEED=42]
(about 10 min an epoch on 2 cores; ROWS keeps the first N training rows, for a pilot; SEED changes the head's
initialisation and the batch order, not the train/validation split)
"""

from __future__ import annotations

import sys
import time

from _common import JIGSAW_TEST, JIGSAW_TRAIN  # noqa: E402  (puts the project on sys.path)
import numpy as np  # noqa: E402

from core.config import TrainConfig  # noqa: E402
from core.data import load_dataset  # noqa: E402
from core.evaluation.metrics import multilabel_metrics  # noqa: E402
from core.models.catalog import bundled_model_path  # noqa: E402
from core.training.data import load_training_data  # noqa: E402
from core.training.fast_dropout import for_cpu_training  # noqa: E402

BATCH, LR, SPLIT_SEED = 16, 1e-4, 42


def main() -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    mode = sys.argv[1] if len(sys.argv) > 1 else "mean"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    max_length = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else SPLIT_SEED
    if mode not in ("cls", "mean"):
        sys.exit(f"head {mode!r} is not known: use cls or mean")
    data = load_training_data(TrainConfig.from_dict({"model_kind": "classifier", "task": "multilabel",
                                                     "data": str(JIGSAW_TRAIN), "val_fraction": 0.1,
                                                     "test_fraction": 0.0, "seed": SPLIT_SEED}))
    rows = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "all" else len(data.train.frame)
    train = data.train.frame.iloc[:rows]
    labels, texts = data.labels, train["text"].astype(str).tolist()
    targets = torch.tensor(train[labels].values, dtype=torch.float32)
    test = load_dataset(JIGSAW_TEST)
    test_texts, test_truth = test.frame["text"].astype(str).tolist(), test.label_matrix()

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    torch.manual_seed(seed)
    encoder = AutoModel.from_pretrained(bundled_model_path(), add_pooling_layer=(mode == "cls"))
    for_cpu_training(encoder)
    head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(encoder.config.hidden_size, len(labels)))

    def logits(batch_texts: list[str]):
        batch = tokenizer(batch_texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        out = encoder(**batch)
        if mode == "cls":
            return head(out.pooler_output)
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return head((out.last_hidden_state * mask).sum(1) / mask.sum(1))

    params = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=0.01, fused=True)
    positives = targets.mean(0)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=((1 - positives) / positives.clamp_min(1e-6)).clamp(max=30))
    lengths = np.array([len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]])
    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-len(texts) // BATCH)
    total_steps = epochs * steps_per_epoch
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * total_steps), total_steps)

    def batches() -> list[np.ndarray]:
        """Shuffled batches of similar lengths: sort within chunks of 50 batches, then shuffle the batches."""
        order, result = rng.permutation(len(texts)), []
        for start in range(0, len(order), BATCH * 50):
            chunk = order[start:start + BATCH * 50]
            chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
            result += [chunk[i:i + BATCH] for i in range(0, len(chunk), BATCH)]
        rng.shuffle(result)
        return result

    def test_auc() -> dict:
        encoder.eval(), head.eval()
        order, probs = np.argsort([len(t) for t in test_texts]), np.zeros((len(test_texts), len(labels)))
        with torch.inference_mode():
            for start in range(0, len(order), 32):
                rows = order[start:start + 32]
                probs[rows] = torch.sigmoid(logits([test_texts[i] for i in rows])).numpy()
        encoder.train(), head.train()
        return multilabel_metrics(probs, test_truth, labels)

    print(f"head {mode}, {len(texts)} training rows, {epochs} epochs, max_length {max_length}, seed {seed}",
          flush=True)
    started = time.time()
    encoder.train(), head.train()
    for epoch in range(1, epochs + 1):
        for rows in batches():
            loss_fn(logits([texts[i] for i in rows]), targets[rows]).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step(), scheduler.step(), optimizer.zero_grad()
        metrics = test_auc()
        per_label = {name: round(values["roc_auc"], 4) for name, values in metrics["per_label"].items()} \
            if "per_label" in metrics else {}
        print(f"epoch {epoch}: test.csv macro ROC-AUC {metrics['macro_roc_auc']:.4f} {per_label} "
              f"({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
