#!/usr/bin/env python3
"""Writes public_2024_2025.csv (published-CSV schema) from the transcribed table cells below.

Every number is copied by hand from the cited public document (README.md next to this file gives each source); this
script only lays the cells out in the 32-column schema of ../shared/validation/published/README.md, so that what was
read and how it was mapped are both reviewable. Run: python3 make_public_2024_2025.py > public_2024_2025.csv
"""
import csv
import sys

HEADER = ("source_id,source,model,gpu,num_gpus,tp,precision,engine,engine_version,instance,workload,"
          "input_tokens_mean,output_tokens_mean,input_tokens_desc,load_type,load_value,duration_s,"
          "throughput_output_tok_s,throughput_total_tok_s,request_rate_achieved,ttft_mean_ms,ttft_p50_ms,"
          "ttft_p90_ms,ttft_p99_ms,itl_mean_ms,tpot_mean_ms,tpot_def,e2e_mean_ms,e2e_p50_ms,e2e_p99_ms,"
          "latency_per_token_median_ms,notes").split(",")

# --- Source A: TensorRT-LLM perf-overview.md, the revision whose table says "All data in the table below was
# generated using version 0.12.0" (C++ runtime, engines built by trtllm-bench build; in-flight batching).
TRT012_SOURCE = ("NVIDIA/TensorRT-LLM: docs/source/performance/perf-overview.md, the revision stating 'All data in the "
                 "table below was generated using version 0.12.0' (v0.12/v0.13 release docs)")
# Requests per ISL/OSL, from the same document's $num_requests table.
TRT012_REQUESTS = {(128, 128): 30000, (128, 2048): 3000, (128, 4096): 1500, (2048, 128): 3000, (2048, 2048): 1500}
# Column header of the source table -> (schema gpu label, precision, source's own precision word).
TRT012_COLUMNS = {
    "H200": ("H200-141GB-SXM", "fp8", "FP8"),
    "H100": ("H100-80GB-SXM", "fp8", "FP8"),
    "H100-Mixed": ("H100-80GB-SXM", "fp16", "Mixed"),
    "A100": ("A100-80GB-SXM", "fp16", "Mixed"),
    "L40S": ("L40S", "fp8", "FP8"),
}
TRT012_MODELS = {
    "GPTJ-6B": "EleutherAI/gpt-j-6b",
    "Llama-2-7B": "meta-llama/Llama-2-7b-hf",
    "Llama-3-8B": "meta-llama/Meta-Llama-3-8B",
    "Mistral-7B": "mistralai/Mistral-7B-v0.1",
    "Mixtral-8x7B": "mistralai/Mixtral-8x7B-v0.1",
    "Llama-3-70B": "meta-llama/Meta-Llama-3-70B",
    "Llama-2-70B": "meta-llama/Llama-2-70b-hf",
    "Falcon-180B": "tiiuae/falcon-180B",
}
# (model, column, tp, isl, osl, output tokens/s) -- cells of the source table, as printed.
TRT012_CELLS = [
    ("GPTJ-6B", "H100", 1, 128, 128, 24429.55),
    ("GPTJ-6B", "A100", 1, 2048, 2048, 854.37),
    ("Llama-2-7B", "H200", 1, 128, 128, 19706.35),
    ("Llama-2-7B", "H200", 1, 2048, 2048, 3191.34),
    ("Llama-2-7B", "H100", 1, 128, 128, 19068.99),
    ("Llama-2-7B", "H100", 1, 128, 2048, 6610.03),
    ("Llama-2-7B", "H100", 1, 2048, 128, 2271.63),
    ("Llama-2-7B", "H100", 1, 2048, 2048, 2802.41),
    ("Llama-2-7B", "H100-Mixed", 1, 128, 128, 11393.48),
    ("Llama-2-7B", "H100-Mixed", 1, 2048, 2048, 1243.96),
    ("Llama-2-7B", "A100", 1, 128, 128, 5272.39),
    ("Llama-2-7B", "A100", 1, 128, 2048, 1785.79),
    ("Llama-2-7B", "A100", 1, 2048, 128, 564.77),
    ("Llama-2-7B", "A100", 1, 2048, 2048, 735.19),
    ("Llama-2-7B", "L40S", 1, 128, 128, 6345.72),
    ("Llama-2-7B", "L40S", 1, 128, 2048, 1551.37),
    ("Llama-2-7B", "L40S", 1, 2048, 128, 625.09),
    ("Llama-2-7B", "L40S", 1, 2048, 2048, 641.56),
    ("Llama-3-8B", "H200", 1, 128, 128, 28288.75),
    ("Llama-3-8B", "H200", 1, 128, 4096, 16144.44),
    ("Llama-3-8B", "H200", 1, 2048, 2048, 11093.62),
    ("Llama-3-8B", "H100", 1, 128, 128, 27399.75),
    ("Llama-3-8B", "H100", 1, 128, 2048, 19198.73),
    ("Llama-3-8B", "H100", 1, 128, 4096, 12084.97),
    ("Llama-3-8B", "H100", 1, 2048, 128, 3463.26),
    ("Llama-3-8B", "H100", 1, 2048, 2048, 8894.11),
    ("Llama-3-8B", "H100-Mixed", 1, 128, 128, 15567.44),
    ("Llama-3-8B", "H100-Mixed", 1, 2048, 2048, 3986.83),
    ("Llama-3-8B", "A100", 1, 128, 128, 6586.88),
    ("Llama-3-8B", "A100", 1, 128, 2048, 4882.13),
    ("Llama-3-8B", "A100", 1, 2048, 128, 781.63),
    ("Llama-3-8B", "A100", 1, 2048, 2048, 2268.13),
    ("Llama-3-8B", "L40S", 1, 128, 128, 8745.80),
    ("Llama-3-8B", "L40S", 1, 2048, 2048, 2051.79),
    ("Mistral-7B", "A100", 1, 128, 128, 6807.02),
    ("Mistral-7B", "H100", 1, 2048, 2048, 9214.61),
    ("Mixtral-8x7B", "H200", 2, 2048, 2048, 14029.17),
    ("Mixtral-8x7B", "H100", 2, 128, 128, 24394.71),
    ("Mixtral-8x7B", "H100", 2, 2048, 2048, 10479.45),
    ("Mixtral-8x7B", "H100", 4, 128, 2048, 40588.05),
    ("Mixtral-8x7B", "A100", 2, 128, 128, 5921.41),
    ("Mixtral-8x7B", "A100", 4, 2048, 2048, 5221.74),
    ("Mixtral-8x7B", "L40S", 4, 128, 128, 6820.26),
    ("Llama-3-70B", "H200", 2, 128, 2048, 7007.27),
    ("Llama-3-70B", "H100", 4, 128, 128, 8642.05),
    ("Llama-3-70B", "H100", 4, 2048, 128, 1022.06),
    ("Llama-3-70B", "H100", 8, 2048, 2048, 7670.04),
    ("Llama-3-70B", "H100-Mixed", 2, 128, 2048, 720.73),
    ("Llama-3-70B", "H100-Mixed", 4, 128, 128, 5966.47),
    ("Llama-3-70B", "H100-Mixed", 8, 128, 2048, 6672.14),
    ("Llama-3-70B", "A100", 2, 2048, 2048, 87.54),
    ("Llama-3-70B", "A100", 4, 2048, 2048, 1209.69),
    ("Llama-3-70B", "A100", 8, 128, 128, 4548.32),
    ("Llama-3-70B", "L40S", 8, 128, 128, 1364.08),
    ("Llama-3-70B", "L40S", 8, 2048, 2048, 895.23),
    ("Llama-2-70B", "H100", 4, 128, 2048, 8870.71),
    ("Llama-2-70B", "A100", 8, 2048, 128, 569.48),
    ("Llama-2-70B", "L40S", 8, 128, 2048, 2203.33),
    ("Falcon-180B", "H100", 8, 128, 2048, 13107.48),
]


def offline_row(source_id, source, model_id, gpu, tp, precision, version, isl, osl, requests, tok_s, notes):
    """One trtllm-bench offline row (fixed ISL/OSL, all requests queued at once) in the published schema."""
    row = dict.fromkeys(HEADER, "")
    row.update({
        "source_id": source_id, "source": source, "model": model_id, "gpu": gpu, "num_gpus": tp, "tp": tp,
        "precision": precision, "engine": "trtllm", "engine_version": version, "workload": "synthetic-fixed",
        "input_tokens_mean": isl, "output_tokens_mean": osl,
        "input_tokens_desc": (f"random token IDs, fixed ISL {isl} / OSL {osl} (prepare_dataset.py token-norm-dist, "
                              f"stdev 0), {requests} requests"),
        "load_type": "offline", "throughput_output_tok_s": tok_s, "notes": notes,
    })
    return row


def trt012_rows():
    for model, column, tp, isl, osl, tok_s in TRT012_CELLS:
        gpu, precision, word = TRT012_COLUMNS[column]
        notes = (f"trtllm-bench throughput (C++ runtime, engine from trtllm-bench build), all requests queued at "
                 f"once; table value 'token throughput in tokens/second' (= output tokens/s: the doc's example "
                 f"prints 182.86 req/s x 128 output tokens = 23405.9 tok/s); source precision column '{word}'"
                 + ("; 'Mixed' read as an FP16 engine without quantization (the doc: remove --quantization FP8 "
                    "to build FP16)" if word == "Mixed" else "; FP8 quantization sets the KV cache to FP8 (doc)")
                 + f"; source table cell: {model} {isl}/{osl} TP{tp} column {column}")
        yield offline_row(f"trtllm_perf_overview_v012:{model}:{gpu}:{word.lower()}:tp{tp}:{isl}-{osl}", TRT012_SOURCE,
                          TRT012_MODELS[model], gpu, tp, precision, "0.12.0", isl, osl,
                          TRT012_REQUESTS[(isl, osl)], tok_s, notes)


# --- Source B: the same file's TensorRT-LLM 1.0 revision (@00f37686), cells NOT in ../shared's trtllm_static.csv
# (which holds Llama-3.1-8B and Llama-3.3-70B on H100/H200 and two Llama-3.1-405B H100 cells): the other
# Llama-3.1-405B FP8 cells, and two B200 FP4 cells (FP4 has no datapath in the cost model: they test that such a row
# says so). PyTorch backend, trtllm-bench throughput; the same ISL/OSL request counts; "Total Output Throughput".
TRT10_SOURCE = "NVIDIA/TensorRT-LLM: docs/source/performance/perf-overview.md @00f37686 (v1.0 revision)"
TRT10_REQUESTS = {(128, 128): 30000, (128, 2048): 3000, (128, 4096): 1500, (500, 2000): 3000, (1000, 1000): 3000,
                  (1000, 2000): 1500, (2048, 128): 3000, (2048, 2048): 1500, (5000, 500): 1500,
                  (20000, 2000): 1000}
TRT10_MODELS = {
    "Llama-3.1-405B-Instruct-FP8": "nvidia/Llama-3.1-405B-Instruct-FP8",
    "Llama-3.3-70B-Instruct-FP4": "nvidia/Llama-3.3-70B-Instruct-FP4",
}
TRT10_GPUS = {"H100": "H100-80GB-SXM", "H200": "H200-141GB-SXM", "B200": "B200"}
# (model, gpu column, tp, precision, isl, osl, total output tokens/s)
TRT10_CELLS = [
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 128, 128, 3814),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 128, 2048, 5348),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 128, 4096, 4741),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 500, 2000, 4724),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 1000, 1000, 3330),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 1000, 2000, 3722),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 2048, 128, 456),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 2048, 2048, 2948),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 5000, 500, 650),
    ("Llama-3.1-405B-Instruct-FP8", "H200", 8, "fp8", 20000, 2000, 505),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 128, 2048, 4340),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 128, 4096, 3116),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 500, 2000, 3994),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 1000, 2000, 2895),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 2048, 128, 453),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 2048, 2048, 2296),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 5000, 500, 610),
    ("Llama-3.1-405B-Instruct-FP8", "H100", 8, "fp8", 20000, 2000, 345),
    ("Llama-3.3-70B-Instruct-FP4", "B200", 1, "fp4", 128, 128, 11147),
    ("Llama-3.3-70B-Instruct-FP4", "B200", 1, "fp4", 2048, 2048, 4783),
]


def trt10_rows():
    for model, column, tp, precision, isl, osl, tok_s in TRT10_CELLS:
        gpu = TRT10_GPUS[column]
        notes = ("trtllm-bench throughput, PyTorch backend, all requests queued at once; metric = Total Output "
                 "Throughput (tokens/s); CUDA graphs with padding; KV cache free-GPU-memory fraction 0.95 where it "
                 f"fit, else 0.90 or lower; source table cell: {model} {isl}/{osl} column {column} TP{tp} "
                 f"({precision.upper()}); not in ../shared trtllm_static.csv")
        yield offline_row(f"trtllm_perf_overview_v10x:{model}:{gpu}:tp{tp}:{isl}-{osl}", TRT10_SOURCE,
                          TRT10_MODELS[model], gpu, tp, precision, "1.0", isl, osl, TRT10_REQUESTS[(isl, osl)],
                          tok_s, notes)

def main():
    writer = csv.DictWriter(sys.stdout, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    for row in trt012_rows():
        writer.writerow(row)
    for row in trt10_rows():
        writer.writerow(row)


if __name__ == "__main__":
    main()
