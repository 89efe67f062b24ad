#!/usr/bin/python3
"""Optuna (TPE sampler + median pruner) driving `atelier train` on the search space
of an `atelier sweep` spec, stopping when its trials have run a given total number
of epochs: the competitor of bench/sweep/run_bench.sh.

usage: optuna_sweep.py --spec sweep.yaml --out DIR --total-epochs N [--atelier atelier]
Prints one JSON line: {"best_val_accuracy", "total_epochs", "trials", "best_params"}.
Needs Debian's python3-optuna and python3-yaml.
"""
import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time

import optuna
import yaml


def metric_of(record, head):
    val = record.get("val") or {}
    if head:
        return val.get(head, {}).get("accuracy")
    accs = [m.get("accuracy") for m in val.values()]
    return sum(accs) / len(accs) if accs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--total-epochs", type=int, required=True)
    ap.add_argument("--atelier", default="atelier")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    spec = yaml.safe_load(open(args.spec))
    base = os.path.dirname(os.path.abspath(args.spec))
    data = spec["data"] if os.path.isabs(spec["data"]) else os.path.join(base, spec["data"])
    epochs = int(spec["epochs"])
    metric = spec.get("metric", "val_accuracy")
    head = metric.split(":", 1)[1] if ":" in metric else ""
    fixed = []
    for name, value in (spec.get("train") or {}).items():
        if value is True:
            fixed.append("--" + name)
        elif value is not False:
            fixed += ["--" + name, str(value)]
    used = {"epochs": 0}

    def objective(trial):
        argv = [args.atelier, "train", "--data", data, "--out", os.path.join(args.out, "trial-%04d" % trial.number),
                "--epochs", str(epochs)] + fixed
        for name, dist in spec["parameters"].items():
            if "choices" in dist:
                value = trial.suggest_categorical(name, [str(c) for c in dist["choices"]])
            elif "uniform" in dist:
                value = trial.suggest_float(name, *map(float, dist["uniform"]))
            elif "log_uniform" in dist:
                value = trial.suggest_float(name, *map(float, dist["log_uniform"]), log=True)
            else:
                value = trial.suggest_int(name, *map(int, dist["int"]))
            if str(value).lower() == "true":
                argv.append("--" + name)
            elif str(value).lower() != "false":
                argv += ["--" + name, str(value)]
        run = argv[argv.index("--out") + 1]
        os.makedirs(run, exist_ok=True)
        with open(os.path.join(run, "train.log"), "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        seen, last = 0, None
        while True:
            done = proc.poll() is not None
            lines = []
            path = os.path.join(run, "metrics.jsonl")
            if os.path.exists(path):
                lines = [json.loads(l) for l in open(path) if l.strip().endswith("}")]
            for record in lines[seen:]:
                value = metric_of(record, head)
                seen += 1
                used["epochs"] += 1
                if value is None:
                    continue
                last = value
                trial.report(value, record["epoch"])
                if trial.should_prune() and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait()
                    raise optuna.TrialPruned()
            if done:
                break
            time.sleep(0.5)
        if last is None:
            raise RuntimeError("trial %d gave no val metric (see %s/train.log)" % (trial.number, run))
        return last  # the metric after the trial's last epoch, as atelier sweep ranks trials

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=args.seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    while used["epochs"] < args.total_epochs:
        study.optimize(objective, n_trials=1, catch=(RuntimeError,))
    best = study.best_trial
    print(json.dumps({"best_val_accuracy": best.value, "total_epochs": used["epochs"], "trials": len(study.trials),
                      "best_params": best.params}))


if __name__ == "__main__":
    sys.exit(main())
