#!/usr/bin/env python3
"""Peer for `bench step`: the same small CNN training step in PyTorch (Debian's python3-torch), one thread, batch
128, Adam 1e-3, random 1x28x28 inputs: no dropout, nn.Dropout(0.1) after every BN, a fixed random 0/1 mask
multiplied after every BN (drawn once), and the same mask multiplied in place (as PatternDropout does). Prints
ms/step medians over rounds that alternate the variants.

Run: apt-get install -y python3-torch; /usr/bin/python3 bench/pytorch_step.py [STEPS]"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(1)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
rounds = 5
batch = 128


class Net(nn.Module):
    def __init__(self, site):
        super().__init__()
        self.site = site
        self.c1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(32)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(64)
        self.h = nn.Linear(64 * 7 * 7, 128)
        self.o = nn.Linear(128, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.site(0, self.b1(self.c1(x)))), 2)
        h = F.max_pool2d(F.relu(self.site(1, self.b2(self.c2(h)))), 2)
        h = F.adaptive_avg_pool2d(h, (7, 7)).flatten(1)
        return self.o(F.relu(self.h(h)))


x_all = torch.randn(6000, 1, 28, 28)
y_all = torch.randint(0, 10, (6000,))
drop = nn.Dropout(0.1)
masks = [(torch.rand(batch, 32, 28, 28) > 0.1).float() / 0.9, (torch.rand(batch, 64, 14, 14) > 0.1).float() / 0.9]
variants = {
    "none": lambda i, t: t,
    "nn.Dropout": lambda i, t: drop(t),
    "mask multiply": lambda i, t: t * masks[i],
    "mask mul_": lambda i, t: t.mul_(masks[i]),
}


def run(site):
    torch.manual_seed(1)
    m = Net(site)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    m.train()
    for k in range(steps + 5):
        if k == 5:
            t0 = time.perf_counter()
        j = (k * batch) % (6000 - batch)
        opt.zero_grad()
        F.cross_entropy(m(x_all[j:j + batch]), y_all[j:j + batch]).backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


res = {k: [] for k in variants}
for r in range(rounds):
    for k, v in variants.items():
        res[k].append(run(v))
print(f"pytorch {torch.__version__}, 1 thread, batch {batch}, {steps} steps x {rounds} rounds")
for k in variants:
    ratio = statistics.median(a / b for a, b in zip(res[k], res["none"]))
    print(f"{k:14s} {statistics.median(res[k]) * 1000:8.2f} ms/step  ratio {ratio:.3f}")
