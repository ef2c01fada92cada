"""Tiny local models for tests: never downloaded, built from a config in a second or two."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.models.catalog import bundled_model_path
from core.paths import SAMPLE_MULTILABEL


def build_tiny_bert(folder: Path) -> Path:
    """A 2-layer, 32-wide BERT with the bundled MiniLM's WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    tokenizer.model_max_length = 128
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_deberta(folder: Path) -> Path:
    """A 2-layer DeBERTa-v2 (mDeBERTa's architecture) with a SentencePiece tokenizer trained on the sample."""
    import sentencepiece as spm
    import torch
    from transformers import DebertaV2Config, DebertaV2Model, DebertaV2Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    texts = pd.read_csv(SAMPLE_MULTILABEL)["comment_text"].tolist()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_prefix=str(folder / "spm"), vocab_size=400, model_type="unigram",
        pad_id=0, unk_id=1, bos_id=2, eos_id=3, pad_piece="[PAD]", unk_piece="[UNK]", bos_piece="[CLS]",
        eos_piece="[SEP]", user_defined_symbols=["[MASK]"], minloglevel=2)
    processor = spm.SentencePieceProcessor(model_file=str(folder / "spm.model"))
    vocab = [(processor.id_to_piece(i), processor.get_score(i) if i > 4 else 0.0)
             for i in range(processor.get_piece_size())]
    tokenizer = DebertaV2Tokenizer(vocab=vocab, model_max_length=128)
    torch.manual_seed(0)
    config = DebertaV2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=64, max_position_embeddings=128, relative_attention=True,
                             position_buckets=32, pos_att_type=["p2c", "c2p"], pad_token_id=0)
    DebertaV2Model(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "spm.model").unlink()
    (folder / "spm.vocab").unlink()
    return folder


def build_tiny_sbert(folder: Path, bert_folder: Path) -> Path:
    """A saved sentence-transformers model (modules.json): the tiny BERT + mean pooling + Normalize."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    encoder = Transformer(str(bert_folder), max_seq_length=64)
    model = SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "mean"), Normalize()],
                                device="cpu")
    model.save(str(folder), create_model_card=False)
    return folder
