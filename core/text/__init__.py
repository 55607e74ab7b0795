"""Text spaces: tokenizer, corpus readers and skip-gram training (gensim, imported on use)."""

from core.text.corpus import (CHAPTER_FILTERS, CORPUS_FORMATS, detect_format, load_corpus,
                              read_corpus, read_plain_text, read_verse_tsv)
from core.text.skipgram import SkipGramParams, train_text_space
from core.text.tokenize import TOKEN_PATTERN, tokenize

__all__ = [
    "CHAPTER_FILTERS", "CORPUS_FORMATS", "SkipGramParams", "TOKEN_PATTERN", "detect_format",
    "load_corpus", "read_corpus", "read_plain_text", "read_verse_tsv", "tokenize",
    "train_text_space",
]
