#!/usr/bin/env python
"""One BigNAS sandwich4 training step vs plain training steps of static models, same batch, in one run.

    python benchmarks/bignas_step.py [--config configs/nas/bignas/bignas_mobilenetv3_digits.py] [--batch 64]
        [--repeats 10] [--threads 1] [--device cpu|cuda] [--profile]

Measures (median over ``--repeats``, after warm-up):
- ``sandwich``: ``BigNAS.train_step`` with strategy sandwich4 (max + 2 random + min, forward/backward each,
  one SGD step), the random subnets fixed by a seed so every repeat runs the same four subnets;
- ``static_max``: one plain step (forward, backward, SGD step) of the max subnet exported as a static model;
- ``sandwich_all_max``: the same step with all four subnets forced to the max (4 sliced passes of the max);
- ``static_sum``: the same four subnets exported as static models: the sum of their forward/backward times plus one
  SGD step, i.e. what the sandwich would cost without slicing.
Prints ``sandwich_all_max / static_max`` (approaches 4: four passes, one optimizer step), ``sandwich / static_max``
(less than 4: the other subnets are smaller) and the slicing overhead ``sandwich / static_sum - 1``.
``--profile`` adds one profiled run of the sandwich step and of the four static steps (host ms, kernel ms, kernel
launches, host operators; see ``step_benchmark.profile_steps``).
"""
from __future__ import annotations

import copy
import os.path as osp
import random
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from step_benchmark import profile_steps, seeded_config, step_parser  # noqa: E402


def parse_args():
    p = step_parser(__doc__.splitlines()[0], "configs/nas/bignas/bignas_mobilenetv3_digits.py", repeats=10,
                    warmup=2, device=True)
    p.add_argument("--profile", action="store_true",
                   help="also profile one sandwich step and the same 4 static steps (host/kernel time, host ops)")
    return p.parse_args()


def main() -> int:
    import torch

    from gml.models import build_algorithm
    from gml.models.ops import to_static_model
    from gml.models.space import random_choice
    from gml.models.subnet import TestForward

    args = parse_args()
    cfg = seeded_config(args)
    device = torch.device(args.device)
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    algorithm_cfg["strategy"] = "sandwich4"
    alg = build_algorithm(algorithm_cfg).to(device).train()
    img = torch.randn(args.batch, 3, args.size, args.size, device=device)
    label = torch.randint(0, 10, (args.batch,), device=device)
    data = dict(img=img, gt_label=label)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)

    rng = random.Random(1234)
    space = alg.mutator.search_space
    subnets = [alg.mutator.max_choice(), random_choice(space, rng), random_choice(space, rng),
               alg.mutator.min_choice()]

    def sandwich_step(optimizer):
        alg.mutator.rng.seed(1234)   # the same two random subnets as `subnets`
        alg.train_step(data, optimizer)

    def all_max_sandwich_step(optimizer):
        # the same sandwich step with every subnet forced to the max: 4 sliced passes of the max subnet
        mutator = alg.mutator
        saved = mutator.set_random, mutator.set_min
        mutator.set_random = mutator.set_min = mutator.set_max
        try:
            alg.train_step(data, optimizer)
        finally:
            mutator.set_random, mutator.set_min = saved

    statics = []
    for choice in subnets:
        alg.mutator.set_choice(choice)
        model = copy.deepcopy(alg.model).eval()
        to_static_model(TestForward(model), img[:1])
        statics.append(model.train())
    alg.activate_default()

    def static_pass(model):
        losses = model.forward_train(img, label)
        losses["loss"].backward()

    def timed(fn, repeats):
        times = []
        for i in range(args.warmup + repeats):
            sync()
            start = time.perf_counter()
            fn()
            sync()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        return statistics.median(times)

    opt = torch.optim.SGD(alg.parameters(), lr=0.01, momentum=0.9)
    static_opts = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for m in statics]

    def static_step(i):
        static_opts[i].zero_grad()
        static_pass(statics[i])
        static_opts[i].step()

    # interleave the measurements so that machine load affects all alike
    rounds = {"sandwich": [], "sandwich_all_max": [], "static_max": [], "static_sum": []}
    for _ in range(args.repeats):
        rounds["sandwich"].append(timed(lambda: sandwich_step(opt), 1))
        rounds["sandwich_all_max"].append(timed(lambda: all_max_sandwich_step(opt), 1))
        rounds["static_max"].append(timed(lambda: static_step(0), 1))
        passes = [timed(lambda i=i: (static_opts[i].zero_grad(), static_pass(statics[i])), 1)
                  for i in range(4)]
        step_only = timed(lambda: static_opts[0].step(), 1)
        rounds["static_sum"].append(sum(passes) + step_only)
    med = {k: statistics.median(v) for k, v in rounds.items()}
    from gml.models.evaluation import NaiveEvaluator
    evaluator = NaiveEvaluator(units="M", default_shape=(1, 3, args.size, args.size))
    flops = []
    for choice in subnets:
        alg.mutator.set_choice(choice)
        flops.append(evaluator.complexity(alg)["flops"])
    print(f"device={device.type} threads={args.threads} batch={args.batch}x3x{args.size}x{args.size} "
          f"repeats={args.repeats}")
    print("subnet MFLOPs/image (max, random, random, min): " + ", ".join(f"{f:.2f}" for f in flops))
    print(f"sandwich4 step       {med['sandwich'] * 1e3:8.1f} ms")
    print(f"static max step      {med['static_max'] * 1e3:8.1f} ms")
    print(f"static 4-subnet sum  {med['static_sum'] * 1e3:8.1f} ms")
    print(f"sandwich4, all 4 = max {med['sandwich_all_max'] * 1e3:8.1f} ms")
    print(f"ratio (sandwich4 with 4 max subnets) / static max step: "
          f"{med['sandwich_all_max'] / med['static_max']:.2f} (4 forward/backward passes, one optimizer step)")
    print(f"ratio sandwich4 / static max step: {med['sandwich'] / med['static_max']:.2f} "
          f"(4 passes; FLOPs-weighted expectation {sum(flops) / flops[0]:.2f})")
    print(f"slicing overhead (sandwich4 / same 4 subnets static - 1): "
          f"{(med['sandwich'] / med['static_sum'] - 1) * 100:+.1f}%")
    if args.profile:
        steps = {"BigNAS sandwich4 step": lambda: sandwich_step(opt),
                 "static same 4 subnets": lambda: ([(static_opts[i].zero_grad(), static_pass(statics[i]))
                                                     for i in range(4)], static_opts[0].step())}
        profile_steps(steps, sync, device, tables_for=("BigNAS sandwich4 step",))
    return 0


if __name__ == "__main__":
    sys.exit(main())
