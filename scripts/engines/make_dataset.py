#!/usr/bin/env python3
"""Writes an llm-load-test v2 JSONL dataset whose prompts have an exact token count for tiny-llama.

Each prompt is a seeded random sequence of words that are single tokens of the shipped tokenizer
(" word" pieces), so its length is known without asking the server; every count is verified by
encoding with that tokenizer. Prompts are independent random word sequences (894 words to
pick from), so in practice no two share a KV block (128 tokens) and vLLM's prefix cache cannot serve
one request from another's blocks. `tok_input_length` counts what the server reports as
input_token_count: the prompt's tokens plus the BOS token the tokenizer adds.

Usage: make_dataset.py --input-tokens N --output-tokens M [--count K] [--seed S] --out FILE
Run with the engines venv's python (it has `tokenizers`).
"""
import argparse
import json
import pathlib
import random
import sys

TOKENIZER = pathlib.Path(__file__).resolve().parents[2] / "configs/real-engines/tiny-llama/tokenizer.json"


def single_token_words(tok):
    """Vocabulary entries that are a space plus 2+ ASCII letters ("Ġ" is the byte-level space)."""
    words = [p[1:] for p in tok.get_vocab() if p.startswith("\u0120") and p[1:].isascii() and p[1:].isalpha()
             and len(p) > 2]
    return sorted(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input-tokens", type=int, required=True, help="tokens incl. BOS (>= 2)")
    ap.add_argument("--output-tokens", type=int, required=True)
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args()
    if args.input_tokens < 2 or args.output_tokens < 1 or args.count < 1:
        print("make_dataset.py: --input-tokens must be >= 2, --output-tokens and --count >= 1", file=sys.stderr)
        sys.exit(2)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(TOKENIZER))
    words = single_token_words(tok)
    rng = random.Random(args.seed)
    with args.out.open("w") as f:
        meta = {"name": f"tiny-llama-in{args.input_tokens}-out{args.output_tokens}", "version": "1",
                "tokenizer": str(TOKENIZER.relative_to(TOKENIZER.parents[3]))}
        f.write(json.dumps(meta) + "\n")
        for i in range(args.count):
            # The first word has no leading space in the text, so it is picked from words that are
            # single tokens without the space too.
            text = " ".join(rng.choice(words) for _ in range(args.input_tokens - 1))
            n = len(tok.encode(text).ids)
            while n != args.input_tokens:  # a first word that splits in two: replace it
                text = rng.choice(words) + text[text.index(" "):] if " " in text else rng.choice(words)
                n = len(tok.encode(text).ids)
            f.write(json.dumps({"index": i, "question": text, "system_prompt": "",
                                "tok_input_length": n, "tok_output_length": args.output_tokens}) + "\n")


if __name__ == "__main__":
    main()
