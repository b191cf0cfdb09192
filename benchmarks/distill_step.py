#!/usr/bin/env python
"""The cost of distillation's plumbing: one gml distillation training step vs what it must cost at least, a plain
student training step plus one no-grad forward of the teacher, on the same batch, in one run.

    python benchmarks/distill_step.py [--config configs/distill/fitnet_at_mobilenet_v2_to_resnet18_w8_digits.py]
        [--batch 64] [--repeats 20] [--threads 1] [--device cpu|cuda] [--profile]

Measured (median over ``--repeats`` rounds, interleaved so machine load hits all alike, after warm-up):
- ``kd``: ``algorithm.train_step`` (teacher forward under no_grad with its forward hooks, student forward with its
  hooks, connectors and distillation losses) + backward + SGD step, as mmcv's OptimizerHook runs it;
- ``reference``: the bare student (a copy of the algorithm's) ``forward_train`` + backward + SGD step, plus the bare
  teacher's logits under ``torch.no_grad()``.
Prints ``kd / reference`` of the median wall time and of the median CPU time of this process (with one thread, the
CPU time is what the step costs even when other jobs load the machine) (goal: <= 1.10, i.e. hooks, connectors and
losses add at most 10%). The teacher's weights
do not change the timing, so the teacher keeps random weights here (no checkpoint needed). With ``--device cuda``
every step ends with ``torch.cuda.synchronize()`` so the wall time covers the GPU's work; the CPU column then only
shows the host's share (launching kernels, waiting). ``--profile`` adds one profiled run of each step (host ms,
kernel ms, kernel launches, host operators; see ``step_benchmark.profile_steps``).
"""
from __future__ import annotations

import copy
import os.path as osp
import statistics
import sys
import time
import warnings

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from step_benchmark import profile_steps, seeded_config, step_parser  # noqa: E402


def parse_args():
    p = step_parser(__doc__.splitlines()[0], "configs/distill/fitnet_at_mobilenet_v2_to_resnet18_w8_digits.py",
                    repeats=20, warmup=3, device=True)
    p.add_argument("--profile", action="store_true",
                   help="also profile one distillation step and one reference step (host/kernel time, host ops)")
    return p.parse_args()


def main() -> int:
    import torch

    from gml.models import build_algorithm
    from gml.models.distill import TeacherCheckpointWarning, classifier_logits

    args = parse_args()
    cfg = seeded_config(args)
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    teachers = algorithm_cfg.distiller.distill_cfg
    for teacher in teachers if isinstance(teachers, list) else [teachers]:
        teacher["ckpt_path"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TeacherCheckpointWarning)
        alg = build_algorithm(algorithm_cfg)
    alg.init_weights()
    device = torch.device(args.device)
    alg.to(device).train()
    student = copy.deepcopy(alg.model).train()
    teacher_models = [copy.deepcopy(t.model).eval() for t in alg.distiller.teachers]
    img = torch.randn(args.batch, 3, args.size, args.size, device=device)
    label = torch.randint(0, 10, (args.batch, ), device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    data = dict(img=img, gt_label=label)
    kd_opt = torch.optim.SGD(alg.parameters(), lr=0.01, momentum=0.9)
    ref_opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9)

    def kd_step():
        kd_opt.zero_grad()
        alg.train_step(data, kd_opt)["loss"].backward()
        kd_opt.step()

    def reference_step():
        with torch.no_grad():
            for teacher in teacher_models:
                classifier_logits(teacher, img)
        ref_opt.zero_grad()
        student.forward_train(img, label)["loss"].backward()
        ref_opt.step()

    def timed(fn):
        sync()
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        sync()
        return time.perf_counter() - start, time.process_time() - cpu

    for _ in range(args.warmup):
        kd_step()
        reference_step()
    rounds = {"kd": [], "reference": []}
    for _ in range(args.repeats):
        rounds["kd"].append(timed(kd_step))
        rounds["reference"].append(timed(reference_step))
    med = {k: statistics.median(w for w, _ in v) for k, v in rounds.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in rounds.items()}
    heads = ", ".join(f"{s.head.name}({type(s.head.loss).__name__})" for s in alg.distiller.supervisions) or "-"
    print(f"config={args.config}")
    print(f"device={device.type} threads={args.threads} batch={args.batch}x3x{args.size}x{args.size} repeats={args.repeats} "
          f"teachers={len(teacher_models)} heads: {heads}" + (" + MEAL V2" if alg.use_meal else ""))
    print(f"{'':42s} {'wall':>9s} {'CPU':>9s}")
    print(f"distillation step                          {med['kd'] * 1e3:6.1f} ms {cpu['kd'] * 1e3:6.1f} ms")
    print(f"student step + no-grad teacher forward(s)  {med['reference'] * 1e3:6.1f} ms "
          f"{cpu['reference'] * 1e3:6.1f} ms")
    print(f"ratio distillation / reference: wall {med['kd'] / med['reference']:.3f}, "
          f"CPU {cpu['kd'] / cpu['reference']:.3f} (goal <= 1.10)")
    if args.profile:
        profile_steps({"distillation step": kd_step, "student step + teacher forward": reference_step}, sync,
                      device, tables_for=("distillation step",))
    return 0


if __name__ == "__main__":
    sys.exit(main())
