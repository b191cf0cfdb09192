"""A Lightning training as people write it: a LightningModule that logs ``val_acc`` with ``self.log``, trained by
``Trainer.fit`` with the CSV and TensorBoard loggers writing under the working directory (or $GML_JOB_DIR).

    python lightning_digits.py [--epochs 3] [--batch-size 64] [--lr 0.05] [--logger csv,tb] [--sleep 0]
"""
import argparse
import os
import time

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class DigitsMLP(pl.LightningModule):
    def __init__(self, lr, sleep):
        super().__init__()
        self.lr, self.sleep = lr, sleep
        self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    def training_step(self, batch, _):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())

    def on_validation_epoch_end(self):
        time.sleep(self.sleep)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--logger", default="csv,tb")
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pl.seed_everything(0, verbose=False)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    save_dir = os.environ.get("GML_JOB_DIR", ".")
    loggers = []
    if "csv" in args.logger:
        loggers.append(CSVLogger(save_dir, name="lightning_logs", flush_logs_every_n_steps=1))
    if "tb" in args.logger:
        loggers.append(TensorBoardLogger(save_dir, name="tb_logs"))
    trainer = pl.Trainer(max_epochs=args.epochs, logger=loggers, log_every_n_steps=5, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)
    trainer.fit(DigitsMLP(args.lr, args.sleep), DataLoader(TensorDataset(x[:1400], y[:1400]),
                                                            batch_size=args.batch_size, shuffle=True),
                DataLoader(TensorDataset(x[1400:], y[1400:]), batch_size=512))


if __name__ == "__main__":
    main()
