#!/bin/bash
# vLLM's own OpenAI HTTP server (scripts/engines/start.sh vllm-openai), checked with curl as a known-good
# reference for an OpenAI client: /v1/completions streaming (SSE, stream_options.include_usage,
# ignore_eos, min_tokens = max_tokens) and non-streaming; error answers for a prompt over
# max_model_len and max_tokens over what fits. The answers must have the shape of the transcripts in
# tests/engines/data/ (same events, same keys; ids, times and text differ run to run), and counts must
# be exact: one SSE chunk per generated token, usage = the tokenizer's prompt count and max_tokens.
# SERVETWIN_ENGINES_SAVE_DATA=1 rewrites those transcripts from this run.
# Usage (ctest): bash vllm_openai.sh <servetwin-binary> <repo-dir>
set -euo pipefail
source "$(dirname "$0")/lib.bash"
data="$repo/tests/engines/data"

start_engine vllm-openai "$tmp/port"
url="http://127.0.0.1:$(cat "$tmp/port")/v1/completions"
prompt="Answer the question given this paragraph: the heart and blood vessels"
n_prompt=$("$py" -c 'import sys; from tokenizers import Tokenizer
print(len(Tokenizer.from_file(sys.argv[1]).encode(sys.argv[2]).ids))' \
  "$repo/configs/real-engines/tiny-llama/tokenizer.json" "$prompt")

post() {  # post OUT JSON: writes the body to OUT, prints the HTTP status
  curl -s -o "$1" -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$url"
}
body() {  # body MAX_TOKENS STREAM PROMPT [LOGPROBS]
  "$py" -c 'import json, sys
n, stream, prompt = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
b = {"model": "tiny-llama", "prompt": prompt, "max_tokens": n, "min_tokens": n, "ignore_eos": True,
     "temperature": 0, "stream": stream}
if stream: b["stream_options"] = {"include_usage": True}
if len(sys.argv) > 4: b["logprobs"] = int(sys.argv[4])
print(json.dumps(b))' "$@"
}
[[ $(post "$tmp/stream.sse" "$(body 12 1 "$prompt")") == 200 ]] || fail "streaming: $(cat "$tmp/stream.sse")"
# The same stream with logprobs: each chunk lists the tokens it carries, so the per-chunk count is exact
# even when vLLM merged two tokens into one chunk (see the check below).
[[ $(post "$tmp/stream-logprobs.sse" "$(body 12 1 "$prompt" 0)") == 200 ]] \
  || fail "streaming with logprobs: $(cat "$tmp/stream-logprobs.sse")"
[[ $(post "$tmp/unary.json" "$(body 12 0 "$prompt")") == 200 ]] || fail "non-streaming: $(cat "$tmp/unary.json")"
long=$("$py" -c 'print(" ".join(["the"] * 2100))')
[[ $(post "$tmp/too-long.json" "$(body 4 0 "$long")") == 400 ]] || fail "prompt too long: $(cat "$tmp/too-long.json")"
[[ $(post "$tmp/too-many.json" "$(body 4000 0 "$prompt")") == 400 ]] || fail "max_tokens too large: $(cat "$tmp/too-many.json")"

if [[ ${SERVETWIN_ENGINES_SAVE_DATA:-0} == 1 ]]; then
  mkdir -p "$data"
  cp "$tmp/stream.sse" "$data/vllm-0.11.2-completions-stream.sse"
  cp "$tmp/unary.json" "$data/vllm-0.11.2-completions.json"
  cp "$tmp/too-long.json" "$data/vllm-0.11.2-completions-error-prompt-too-long.json"
  cp "$tmp/too-many.json" "$data/vllm-0.11.2-completions-error-max-tokens.json"
  echo "saved transcripts to $data"
fi

/usr/bin/python3 - "$tmp" "$data" "$n_prompt" <<'PY'
import json, sys
tmp, data, n_prompt = sys.argv[1], sys.argv[2], int(sys.argv[3])

def sse_events(path):
    text = open(path).read()
    assert text.endswith("data: [DONE]\n\n"), text[-200:]
    blocks = [b for b in text.split("\n\n") if b]
    assert all(b.startswith("data: ") for b in blocks), blocks
    return [json.loads(b[6:]) for b in blocks[:-1]]

def shape(x):
    if isinstance(x, dict): return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list): return [shape(v) for v in x[:1]]
    return type(x).__name__

# One chunk per token, except that vLLM V1's per-request output collector merges the deltas of two
# engine steps into one chunk when the engine gets ahead of the HTTP handler
# (vllm/v1/engine/output_processor.py, RequestOutputCollector.put); a busy 2-core CI machine causes it
# now and then (CI stop 25: 11 chunks for 12 tokens). So: at most 12 chunks, each carrying >= 1 token,
# exactly 12 in all, counted from the logprobs stream's per-chunk token lists; merges are reported.
events = sse_events(f"{tmp}/stream.sse")
chunks, usage = events[:-1], events[-1]
assert 1 <= len(chunks) <= 12, len(chunks)
assert all(len(c["choices"]) == 1 for c in chunks)
assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + ["length"]
lp_events = sse_events(f"{tmp}/stream-logprobs.sse")
lp_chunks, lp_usage = lp_events[:-1], lp_events[-1]
per_chunk = [len(c["choices"][0]["logprobs"]["tokens"]) for c in lp_chunks]
assert all(n >= 1 for n in per_chunk) and sum(per_chunk) == 12, per_chunk
assert lp_usage["usage"]["completion_tokens"] == 12, lp_usage
print(f"ok: chunks per stream {len(chunks)} and {len(lp_chunks)} for 12 tokens; tokens per logprobs chunk {per_chunk}")
assert usage["choices"] == [] and usage["usage"] == {
    "prompt_tokens": n_prompt, "completion_tokens": 12, "total_tokens": n_prompt + 12}, usage
unary = json.load(open(f"{tmp}/unary.json"))
assert unary["choices"][0]["finish_reason"] == "length"
assert unary["usage"]["prompt_tokens"] == n_prompt and unary["usage"]["completion_tokens"] == 12, unary
# Greedy on the same prompt: the streamed deltas add up to the non-streamed text.
assert "".join(c["choices"][0]["text"] for c in chunks) == unary["choices"][0]["text"]
for case, needle in (("too-long", "However, your request has 2101 input tokens"), ("too-many", "maximum context length is -1952 tokens")):
    err = json.load(open(f"{tmp}/{case}.json"))
    assert err["error"]["code"] == 400 and needle in err["error"]["message"], (case, err)
    print(f"ok: {case}: 400 '{err['error']['message'][:120]}'")
# The committed transcripts have the same shape (the reference for the OpenAI client's author).
# Merged deltas shorten the stream (CI: the whole-list comparison failed on 12 events against 13), so with a merge
# the shapes are compared kind by kind: the last (finish_reason) chunk and the usage chunk against the transcript's
# own, every earlier chunk against one of the transcript's earlier chunks. Without a merge the whole list must match.
ref = sse_events(f"{data}/vllm-0.11.2-completions-stream.sse")
ref_shapes, shapes = [shape(e) for e in ref], [shape(e) for e in events]
if len(shapes) == len(ref_shapes):
    assert ref_shapes == shapes, "stream shape differs from the committed transcript"
else:
    assert shapes[-2:] == ref_shapes[-2:], ("last chunk and usage", shapes[-2:], ref_shapes[-2:])
    assert all(s in ref_shapes[:-2] for s in shapes[:-2]), "an earlier chunk's shape is not in the transcript"
assert shape(json.load(open(f"{data}/vllm-0.11.2-completions.json"))) == shape(unary)
print(f"ok: {len(chunks)} SSE chunks + usage chunk + [DONE]; usage {usage['usage']}; shapes match tests/engines/data/")
PY
echo "PASS"
