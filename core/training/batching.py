"""Training batches cut by a token budget, padded widths rounded to a few buckets, and the learning-rate rule that
goes with a bigger batch (issue 28: GPU steps that carry enough tokens to fill the chip).

Off by default (`batch_tokens: null`, `pad_multiple: null`): on CPU the row batches of `batch_size` are the
measured recipe (bench/RESULTS.md), and these options are for GPUs, where a step of 16 short rows leaves the chip
idle and the host sets the pace. Everything here is plain numpy, so it is tested on CPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch

REFERENCE_ROWS = 16  # the batch the default learning rates were measured at (TrainConfig.batch_size)
_CHUNK_BATCHES = 50  # rows sorted together, in batches' worth: as LengthBucketSampler's mega-batches


def round_width(width: int, multiple: int | None, cap: int | None = None) -> int:
    """`width` rounded up to a multiple of `multiple` (None or 1: unchanged), never above `cap` (the max length),
    never below `width`: a few static shapes instead of one per batch, so a compiled step or a CUDA graph can be
    reused."""
    if not multiple or multiple <= 1:
        return width
    rounded = -(-width // multiple) * multiple
    return max(width, min(rounded, cap)) if cap else rounded


def scaled_learning_rate(learning_rate: float, rows_per_step: float, reference_rows: int = REFERENCE_ROWS) -> float:
    """The learning rate for `rows_per_step` rows a step, from one chosen at `reference_rows`: the square-root rule
    for Adam-type optimisers (the noise of a gradient estimate falls as 1/sqrt(rows); Hoffer et al. 2017, Malladi et
    al. 2022). Warm-up is a fraction of the steps (`warmup`), so it shortens with them and needs no rule."""
    if rows_per_step <= 0 or reference_rows <= 0:
        raise ValueError(f"rows per step must be positive, got {rows_per_step} and {reference_rows}")
    return learning_rate * math.sqrt(rows_per_step / reference_rows)


class TokenBudgetBatchSampler(torch.utils.data.Sampler):
    """Batches of indices whose padded size (rows x rounded width) stays within `max_tokens`.

    Each epoch: the rows shuffled, cut into chunks, each chunk sorted by length and cut greedily into batches (a
    batch of long rows has few rows, one of short rows many), the batches shuffled. A row longer than the budget
    alone is a batch of one. Like `LengthBucketSampler`, epoch e continues one random stream seeded by `seed`,
    replayed from the start, so a resumed run gets the same batches as an uninterrupted one.

    `len()` is the current epoch's number of batches; other epochs differ by a few batches (the chunks' lengths
    differ), which the Trainer's step count absorbs at the end of the run.
    """

    def __init__(self, lengths: np.ndarray, max_tokens: int, seed: int, pad_multiple: int | None = None,
                 max_length: int | None = None):
        if max_tokens <= 0:
            raise ValueError(f"max_tokens must be positive, got {max_tokens}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.max_tokens, self.seed, self.epoch = int(max_tokens), seed, 0
        self.pad_multiple, self.max_length = pad_multiple, max_length

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _chunk_rows(self) -> int:
        typical = max(1, self.max_tokens // max(1, int(np.median(self.lengths)) if len(self.lengths) else 1))
        return typical * _CHUNK_BATCHES

    def _cut(self, chunk: np.ndarray) -> list[np.ndarray]:
        chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
        batches, start = [], 0
        while start < len(chunk):
            width = round_width(int(self.lengths[chunk[start]]), self.pad_multiple, self.max_length)
            rows = max(1, self.max_tokens // max(width, 1))  # the first row is the widest: it sets the width
            batches.append(chunk[start:start + rows])
            start += rows
        return batches

    def _epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(len(self.lengths))
        size = self._chunk_rows()
        batches = []
        for start in range(0, len(order), size):
            batches += self._cut(order[start:start + size])
        rng.shuffle(batches)
        return batches

    def _plan(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        for _ in range(epoch):  # replay the earlier epochs' draws (milliseconds)
            self._epoch_batches(rng)
        return self._epoch_batches(rng)

    def __len__(self) -> int:
        return len(self._plan(self.epoch))

    def __iter__(self):
        batches = self._plan(self.epoch)
        self.epoch += 1
        for batch in batches:
            yield batch.tolist()

    def mean_rows(self) -> float:
        """Rows per batch in epoch 0's plan (for the learning-rate rule)."""
        plan = self._plan(0)
        return len(self.lengths) / max(len(plan), 1)
