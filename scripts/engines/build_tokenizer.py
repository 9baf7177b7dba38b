#!/usr/bin/env python3
"""Builds the tiny-llama model's HF-format tokenizer from text this repository ships.

Why: the real engines (vLLM) need a real tokenizer, and nothing may be downloaded from a hub.
A byte-level BPE (the scheme of GPT-2 / Llama 3: any UTF-8 input encodes, no unknown token) is
trained with the `tokenizers` library on the prompts and responses of
configs/datasets/openorca-subset-006.json (a byte-identical copy of an upstream data file, so the
training text never changes). Training is deterministic: the same input and vocab size give the
same tokenizer.json byte for byte; `--check` rebuilds into a temporary folder and compares.

Output (the model folder, default configs/real-engines/tiny-llama): tokenizer.json,
tokenizer_config.json, special_tokens_map.json. The vocabulary size (base + special tokens) must
equal config.json's vocab_size; this script fails (exit 2) when it does not.

Usage: build_tokenizer.py [--out DIR] [--check]   (run with the engines venv's python)
"""
import argparse
import filecmp
import json
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS = REPO / "configs/datasets/openorca-subset-006.json"
DEFAULT_OUT = REPO / "configs/real-engines/tiny-llama"
BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"
MODEL_MAX_LENGTH = 2048  # = config.json max_position_embeddings


def corpus_lines():
    doc = json.loads(CORPUS.read_text(encoding="utf-8"))
    for entry in doc["dataset"]:
        yield entry["input"]["text"]
        yield entry["response"]


def train(vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=[BOS, EOS], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus_lines(), trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    # Every encoded prompt starts with BOS, as Llama tokenizers do (counted in input tokens).
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)])
    return tok


def write(out, vocab_size):
    tok = train(vocab_size)
    got = tok.get_vocab_size(with_added_tokens=True)
    if got != vocab_size:
        print(f"build_tokenizer.py: {CORPUS.name} gives {got} tokens, not the requested vocab_size "
              f"{vocab_size} (config.json); lower vocab_size there", file=sys.stderr)
        sys.exit(2)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"), pretty=True)
    special = {"bos_token": BOS, "eos_token": EOS}
    (out / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
    cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MODEL_MAX_LENGTH,
           "clean_up_tokenization_spaces": False, **special}
    (out / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="rebuild into a temp dir and compare with --out")
    args = ap.parse_args()
    config = args.out / "config.json"
    try:
        vocab_size = json.loads(config.read_text())["vocab_size"]
    except (OSError, KeyError, ValueError) as e:
        print(f"build_tokenizer.py: cannot read vocab_size from {config}: {e}", file=sys.stderr)
        sys.exit(2)
    if not args.check:
        write(args.out, vocab_size)
        return
    with tempfile.TemporaryDirectory() as tmp:
        write(pathlib.Path(tmp), vocab_size)
        names = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
        _, mismatch, errors = filecmp.cmpfiles(tmp, args.out, names, shallow=False)
        if mismatch or errors:
            print(f"build_tokenizer.py --check: {args.out} differs from a rebuild: {mismatch + errors}",
                  file=sys.stderr)
            sys.exit(1)
    print(f"build_tokenizer.py --check: {args.out} matches a rebuild (vocab_size {vocab_size})")


if __name__ == "__main__":
    main()
