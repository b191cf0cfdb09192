"""Train a small MLP on scikit-learn's bundled digits (1,797 real 8x8 images, 10 classes) and report to gml.

Every epoch reports validation accuracy (``acc``, in [0, 1]), training loss (``loss``) and the model's parameter
count (``params``, for multi-objective searches: examples/digits/multi_objective.yaml) with ``gml.report``;
outside a search the same numbers are printed only. The train/validation split is fixed (seed 0), so runs with
the same hyper-parameters and ``--seed`` are comparable.

    python examples/digits/train.py --lr 0.01 --hidden 64 --epochs 20
"""
import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import gml


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--hidden", type=int, default=64, help="width of the hidden layers")
    p.add_argument("--layers", type=int, default=1, help="number of hidden layers")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_val, y_train, y_val = train_test_split(x, digits.target, test_size=0.3, random_state=0,
                                                      stratify=digits.target)
    as_t = lambda a, dtype: torch.tensor(a, dtype=dtype)
    return as_t(x_train, torch.float32), as_t(y_train, torch.long), as_t(x_val, torch.float32), as_t(y_val, torch.long)


def build_model(args):
    layers, width = [], 64
    for _ in range(args.layers):
        layers += [nn.Linear(width, args.hidden), nn.ReLU(), nn.Dropout(args.dropout)]
        width = args.hidden
    return nn.Sequential(*layers, nn.Linear(width, 10))


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    x_train, y_train, x_val, y_val = load_data()
    model = build_model(args)
    opt_cls = torch.optim.Adam if args.optimizer == "adam" else torch.optim.SGD
    kwargs = {"momentum": 0.9} if args.optimizer == "sgd" else {}
    optimizer = opt_cls(model.parameters(), lr=args.lr, weight_decay=args.weight_decay, **kwargs)
    loss_fn = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            acc = (model(x_val).argmax(1) == y_val).float().mean().item()
        train_loss = total / len(x_train)
        gml.report(step=epoch, acc=acc, loss=train_loss, params=n_params)
        print(f"epoch {epoch + 1}/{args.epochs} loss {train_loss:.4f} acc {acc:.4f}", flush=True)
    print(f"done in {time.time() - started:.1f}s, final acc {acc:.4f}")


if __name__ == "__main__":
    main()
