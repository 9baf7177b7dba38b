#!/usr/bin/env python3
"""Writes poisson_r5_n500_p512_o128_s42.csv: 500 requests, Poisson arrivals at 5 requests/s
(exponential gaps from Python's seeded generator, seed 42), 512 prompt and 128 output tokens each.
The same shape as ../shared/bench's 10,000-request trace, small enough to ship with the repository.
Usage: python3 examples/make_trace.py > examples/poisson_r5_n500_p512_o128_s42.csv"""
import random

rng = random.Random(42)
t = 0.0
print("arrived_at,num_prefill_tokens,num_decode_tokens")
for _ in range(500):
    t += rng.expovariate(5.0)
    print(f"{t:.6f},512,128")
