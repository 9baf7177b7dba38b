#!/bin/bash
# The shipped tiny-llama tokenizer is what scripts/engines/build_tokenizer.py builds from the shipped
# corpus (byte for byte), its size equals config.json's vocab_size, and make_dataset.py's prompts
# have the token counts they claim. No server; ~5 s.
# Usage (ctest): bash tokenizer.sh <servetwin-binary> <repo-dir>
set -euo pipefail
source "$(dirname "$0")/lib.bash"
"$py" "$repo/scripts/engines/build_tokenizer.py" --check || fail "tokenizer.json is not what build_tokenizer.py builds"
"$py" "$repo/scripts/engines/make_dataset.py" --input-tokens 33 --output-tokens 5 --count 20 --seed 9 --out "$tmp/ds.jsonl"
"$py" - "$repo/configs/real-engines/tiny-llama" "$tmp/ds.jsonl" <<'PY'
import json, sys
from transformers import AutoTokenizer
model_dir, ds = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(model_dir)  # as vLLM loads it (local folder, offline)
vocab = json.load(open(f"{model_dir}/config.json"))["vocab_size"]
assert len(tok) == vocab, (len(tok), vocab)
assert (tok.bos_token_id, tok.eos_token_id) == (0, 1), (tok.bos_token_id, tok.eos_token_id)
lines = open(ds).read().splitlines()[1:]
prompts = [json.loads(l)["question"] for l in lines]
assert len(set(prompts)) == len(prompts)
for p in prompts:
    ids = tok(p).input_ids
    assert len(ids) == 33 and ids[0] == 0, (len(ids), p)
print(f"ok: vocab {vocab}, 20 prompts of exactly 33 tokens (BOS first)")
PY
echo "PASS"
