"""Deterministic training loop: seeded batches, accumulation, AMP, early stopping, metrics."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from shared.errors import ValidationError
from shared.ml import layers, metrics
from shared.ml.arrays import FloatArray, NumberArray
from shared.ml.checkpoint import CheckpointManager, TrainingState
from shared.ml.data import BatchIterator, Dataset, Standardizer
from shared.ml.model_loader import ModelArtifact
from shared.ml.optim import SGD, GradientAccumulator, clip_grad_norm
from shared.ml.precision import DynamicLossScaler, MixedPrecisionOptimizer
from shared.ml.schedules import make_schedule

Model = layers.MLP | layers.LinearModel
FLOAT_FIELDS = frozenset({"train_loss", "val_loss", "lr", "best_loss"})
# Rows per forward pass when scoring a split: bounds the activations a wide MLP allocates.
EVAL_ROWS = 1024


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (``from_dict`` rejects unknown keys)."""

    model: str = "logistic"
    hidden: tuple[int, ...] = (16,)
    batchnorm: bool = False
    epochs: int = 20
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    warmup_steps: int = 0
    step_size: int | None = None
    gamma: float = 0.1
    min_lr: float = 0.0
    grad_clip: float | None = None
    accumulation_steps: int = 1
    mixed_precision: bool = False
    loss_scale: float = 2.0**12
    patience: int | None = None
    min_delta: float = 0.0
    drop_last: bool = False

    def __post_init__(self) -> None:
        if self.model not in ("logistic", "linear", "mlp"):
            raise ValidationError(f"unknown model {self.model!r}; expected logistic, linear or mlp")
        if self.epochs < 1 or self.batch_size < 1 or self.accumulation_steps < 1:
            raise ValidationError("epochs, batch_size and accumulation_steps must be positive")
        if self.lr <= 0 or (self.patience is not None and self.patience < 1):
            raise ValidationError("lr must be positive and patience at least 1")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValidationError("hidden must list positive layer widths")
        if self.batchnorm and self.batch_size < 2:
            raise ValidationError("batch norm needs batch_size of at least 2")

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> TrainConfig:
        """Build a config from a hyperparameter mapping; unknown keys are a ValidationError."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValidationError("unknown hyperparameters", details={"unknown": unknown})
        values = dict(params)
        if "hidden" in values:
            values["hidden"] = tuple(int(h) for h in values["hidden"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValidationError(f"invalid hyperparameters: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy."""
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        return out


@dataclass
class TrainResult:
    """The trained artifact, per-epoch history and validation metrics."""

    artifact: ModelArtifact
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    resumed_from_epoch: int | None = None


def _check_task(config: TrainConfig, dataset: Dataset) -> None:
    if config.model == "logistic" and (dataset.task != "classification" or dataset.n_classes != 2):
        raise ValidationError("logistic regression needs a binary classification dataset")
    if config.model == "linear" and dataset.task != "regression":
        raise ValidationError("linear regression needs a regression dataset")


def _build_model(config: TrainConfig, dataset: Dataset, rng: np.random.Generator) -> Model:
    if config.model != "mlp":
        return layers.LinearModel(dataset.n_features)
    n_out = dataset.n_classes if dataset.task == "classification" else 1
    sizes = [dataset.n_features, *config.hidden, n_out]
    return layers.MLP(sizes, rng=rng, batchnorm=config.batchnorm)


def _assign(model: Model, arrays: Mapping[str, FloatArray]) -> None:
    """Point the model's layers at ``arrays`` (used for float16 working copies)."""
    if isinstance(model, layers.LinearModel):
        model.params.update(arrays)
        return
    for name, layer in model.layers:
        for key in layer.params:
            layer.params[key] = arrays[f"{name}.{key}"]


def _loss(
    config: TrainConfig, dataset: Dataset, out: FloatArray, y: NumberArray
) -> tuple[float, FloatArray]:
    if config.model == "logistic":
        return layers.sigmoid_bce(out, y)
    if dataset.task == "classification":
        return layers.softmax_cross_entropy(out, y)
    if out.ndim == 2:
        loss, grad = layers.mse(out[:, 0], y)
        return loss, grad[:, None]
    return layers.mse(out, y)


class _Loop:
    """One run's mutable state: model, optimiser, accumulator, schedule and step counter."""

    def __init__(self, config: TrainConfig, dataset: Dataset, model: Model, total_steps: int):
        self.config, self.dataset, self.model = config, dataset, model
        self.accumulator = GradientAccumulator(config.accumulation_steps)
        self.schedule = make_schedule(
            config.schedule,
            base_lr=config.lr,
            total_steps=total_steps,
            warmup_steps=config.warmup_steps,
            step_size=config.step_size or max(1, total_steps // 3),
            gamma=config.gamma,
            min_lr=config.min_lr,
        )
        self.step = 0
        self.amp: MixedPrecisionOptimizer | None = None
        if config.mixed_precision:
            master = {k: v.astype(np.float32).copy() for k, v in model.parameters().items()}
            self.optimizer = self._sgd(master)
            scaler = DynamicLossScaler(config.loss_scale, growth_interval=100)
            self.amp = MixedPrecisionOptimizer(
                self.optimizer, scaler, max_grad_norm=config.grad_clip
            )
            _assign(model, self.amp.half)
        else:
            self.optimizer = self._sgd(model.parameters())

    def _sgd(self, params: dict[str, FloatArray]) -> SGD:
        c = self.config
        return SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)

    @property
    def master(self) -> Mapping[str, FloatArray]:
        """Return the float32 weights the optimiser updates."""
        return self.optimizer.params

    def micro_step(self, X: FloatArray, y: NumberArray) -> float:
        """Run forward/backward on one micro-batch; step the optimiser every k of them."""
        dtype = np.float16 if self.amp else np.float32
        # Under mixed precision overflow is expected: the loss scaler detects it and skips.
        quiet: Literal["ignore", "warn"] = "ignore" if self.amp else "warn"
        with np.errstate(over=quiet, invalid=quiet):
            out = self.model.forward(X.astype(dtype))
            loss, grad = _loss(self.config, self.dataset, out, y)
            if self.amp is not None:
                grad = self.amp.scaler.scale_loss_grad(grad)
            self.accumulator.add(self.model.backward(grad.astype(dtype)))
        if self.accumulator.ready:
            self.apply()
        return loss

    def apply(self) -> None:
        """Take one optimiser step with the mean of the accumulated gradients."""
        grads = self.accumulator.mean()
        self.accumulator.reset()
        lr = self.schedule(self.step)
        self.step += 1
        if self.amp is not None:
            self.amp.step(grads, lr=lr)
            _assign(self.model, self.amp.half)
            return
        if self.config.grad_clip is not None:
            clip_grad_norm(grads, self.config.grad_clip)
        self.optimizer.step(grads, lr=lr)

    def val_loss(self, X: FloatArray, y: NumberArray) -> float:
        """Return the validation loss in eval mode, forwarding ``EVAL_ROWS`` rows at a time."""
        dtype = np.float16 if self.amp else np.float32
        self.model.training = False
        out = np.concatenate([self.model.forward(X[rows].astype(dtype)) for rows in chunks(len(X))])
        self.model.training = True
        return _loss(self.config, self.dataset, out, y)[0]

    def snapshot(self) -> dict[str, FloatArray]:
        """Return copies of the master weights and batch-norm buffers."""
        state = {k: v.copy() for k, v in self.master.items()}
        if isinstance(self.model, layers.MLP):
            state.update({k: v.copy() for k, v in self.model.buffers().items()})
        return state


@dataclass
class _Progress:
    """Epoch-level state that a checkpoint carries besides the loop: history, early stopping."""

    best: tuple[float, int, dict[str, FloatArray]]
    history: list[dict[str, Any]] = field(default_factory=list)
    waited: int = 0
    stopped: bool = False
    next_epoch: int = 0
    resumed_from_epoch: int | None = None


def train(
    config: TrainConfig,
    dataset: Dataset,
    *,
    seed: int,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    checkpoints: CheckpointManager | str | os.PathLike[str] | None = None,
    resume: bool = True,
) -> TrainResult:
    """Train a model; the same seed gives bitwise-identical weights.

    With ``checkpoints`` (a manager or a directory) the full training state is saved after
    every epoch, once ``on_epoch`` has accepted it; with ``resume`` the run continues from the
    newest checkpoint there and ends exactly as an uninterrupted run would.
    """
    _check_task(config, dataset)
    init_rng, shuffle_rng = np.random.default_rng(seed).spawn(2)
    scaler = Standardizer.fit(dataset.X_train)
    X_tr, X_val = scaler.transform(dataset.X_train), scaler.transform(dataset.X_val)
    model = _build_model(config, dataset, init_rng)
    batches = BatchIterator(
        len(X_tr), config.batch_size, rng=shuffle_rng, drop_last=config.drop_last
    )
    if len(batches) == 0:
        raise ValidationError("batch_size exceeds the training set and drop_last is set")
    total = math.ceil(len(batches) / config.accumulation_steps) * config.epochs
    loop = _Loop(config, dataset, model, total)
    manager = _as_manager(checkpoints)
    progress = _Progress(best=(math.inf, -1, loop.snapshot()))
    latest = manager.load_latest() if manager is not None and resume else None
    if latest is not None:
        progress = _restore(loop, shuffle_rng, latest)
    for epoch in range(progress.next_epoch, config.epochs):
        if progress.stopped:
            break
        losses = [loop.micro_step(X_tr[idx], dataset.y_train[idx]) for idx in batches]
        if loop.accumulator.count:
            loop.apply()
        record = _epoch_record(epoch, losses, loop, loop.val_loss(X_val, dataset.y_val))
        _advance(progress, config, record, loop)
        if on_epoch is not None:
            on_epoch(record)
        if manager is not None:
            manager.save(_capture(loop, shuffle_rng, progress))
    best = progress.best
    final = best[2] if config.patience is not None else loop.snapshot()
    artifact = _to_artifact(config, dataset, scaler, final, seed, best_epoch=best[1])
    result_metrics = evaluate(artifact, dataset.X_val, dataset.y_val)
    artifact.metadata["metrics"] = result_metrics
    artifact.metadata["epochs_run"] = len(progress.history)
    return TrainResult(
        artifact=artifact,
        history=progress.history,
        metrics=result_metrics,
        resumed_from_epoch=progress.resumed_from_epoch,
    )


def _advance(progress: _Progress, config: TrainConfig, record: dict[str, Any], loop: _Loop) -> None:
    """Record a finished epoch and update the early-stopping state."""
    progress.history.append(record)
    progress.next_epoch = record["epoch"] + 1
    if record["val_loss"] < progress.best[0] - config.min_delta:
        progress.best = (record["val_loss"], record["epoch"], loop.snapshot())
        progress.waited = 0
    else:
        progress.waited += 1
    progress.stopped = config.patience is not None and progress.waited >= config.patience


def _as_manager(
    checkpoints: CheckpointManager | str | os.PathLike[str] | None,
) -> CheckpointManager | None:
    if checkpoints is None or isinstance(checkpoints, CheckpointManager):
        return checkpoints
    return CheckpointManager(checkpoints)


def _capture(loop: _Loop, rng: np.random.Generator, progress: _Progress) -> TrainingState:
    """Return everything needed to continue after the epoch that just finished."""
    best_loss, best_epoch, best_state = progress.best
    return TrainingState(
        weights={k: v.copy() for k, v in loop.master.items()},
        step=loop.step,
        optimizer=loop.optimizer.state_dict(),
        rng_state=dict(rng.bit_generator.state),
        scaler=loop.amp.scaler.state_dict() if loop.amp is not None else None,
        buffers=_buffers(loop.model),
        best=best_state if loop.config.patience is not None else {},
        extra={
            "next_epoch": progress.next_epoch,
            "waited": progress.waited,
            "stopped": progress.stopped,
            "best_loss": _to_json_float(best_loss),
            "best_epoch": best_epoch,
            "history": [
                {k: _to_json_float(v) if isinstance(v, float) else v for k, v in r.items()}
                for r in progress.history
            ],
        },
    )


def _restore(loop: _Loop, rng: np.random.Generator, state: TrainingState) -> _Progress:
    """Load a checkpoint into the loop and the shuffling generator; return the epoch state."""
    if set(state.weights) != set(loop.master):
        raise ValidationError("checkpoint weights do not match the model")
    if state.rng_state is None:
        raise ValidationError("checkpoint has no shuffling generator state")
    for name, param in loop.master.items():
        param[...] = state.weights[name]
    loop.optimizer.load_state_dict(state.optimizer)
    loop.step = state.step
    rng.bit_generator.state = state.rng_state
    if loop.amp is not None:
        loop.amp.scaler.load_state_dict(state.scaler or {})
        _assign(loop.model, loop.amp.refresh_half())
    if isinstance(loop.model, layers.MLP):
        loop.model.load_buffers(state.buffers)
    extra = state.extra
    history = [{k: _from_json_float(k, v) for k, v in r.items()} for r in extra["history"]]
    best_state = dict(state.best) if state.best else loop.snapshot()
    best_loss = _from_json_float("best_loss", extra["best_loss"])
    return _Progress(
        best=(best_loss, int(extra["best_epoch"]), best_state),
        history=history,
        waited=int(extra["waited"]),
        stopped=bool(extra["stopped"]),
        next_epoch=int(extra["next_epoch"]),
        resumed_from_epoch=int(extra["next_epoch"]) - 1,
    )


def _buffers(model: Model) -> dict[str, FloatArray]:
    if isinstance(model, layers.MLP):
        return {k: v.copy() for k, v in model.buffers().items()}
    return {}


def _to_json_float(value: float) -> float | str:
    # Checkpoint headers are strict JSON; a diverged loss (inf/nan) is kept as its text.
    return value if math.isfinite(value) else repr(float(value))


def _from_json_float(key: str, value: Any) -> Any:
    if isinstance(value, str) and key in FLOAT_FIELDS:
        return float(value)
    return value


def _epoch_record(epoch: int, losses: list[float], loop: _Loop, val_loss: float) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "train_loss": float(np.mean(losses)),
        "val_loss": float(val_loss),
        "lr": loop.schedule(max(0, loop.step - 1)),
        "optimizer_steps": loop.step,
        "skipped_steps": loop.amp.scaler.skipped_steps if loop.amp else 0,
    }


def _to_artifact(
    config: TrainConfig,
    dataset: Dataset,
    scaler: Standardizer,
    state: dict[str, FloatArray],
    seed: int,
    *,
    best_epoch: int,
) -> ModelArtifact:
    metadata: dict[str, Any] = {
        "task": dataset.task,
        "n_classes": dataset.n_classes,
        "normalization": scaler.to_metadata(),
        "params": config.to_dict(),
        "seed": seed,
        "best_epoch": best_epoch,
    }
    if config.model == "mlp":
        metadata["architecture"] = {
            "hidden": list(config.hidden),
            "batchnorm": config.batchnorm,
            "bn_eps": 1e-5,
            "output": "softmax" if dataset.task == "classification" else "identity",
            "n_outputs": dataset.n_classes if dataset.task == "classification" else 1,
        }
    weights = {k: v.astype(np.float32) for k, v in state.items()}
    return ModelArtifact(config.model, weights, list(dataset.feature_names), metadata)


def chunks(n_rows: int) -> list[slice]:
    """Return consecutive row slices of at most ``EVAL_ROWS`` rows covering ``n_rows``."""
    return [slice(start, start + EVAL_ROWS) for start in range(0, n_rows, EVAL_ROWS)]


def evaluate(artifact: ModelArtifact, X: FloatArray, y: NumberArray) -> dict[str, float]:
    """Return task metrics of ``artifact`` on raw (unstandardised) inputs, scored in chunks."""
    outputs = [_outputs(artifact, X[rows]) for rows in chunks(len(X))]
    pred = np.concatenate([p for p, _ in outputs])
    probas = [q for _, q in outputs if q is not None]
    return _task_metrics(y, pred, np.concatenate(probas) if probas else None)


def _outputs(artifact: ModelArtifact, X: FloatArray) -> tuple[NumberArray, FloatArray | None]:
    """Return the predictions of some rows and, for a classifier, their probabilities."""
    if artifact.metadata.get("task") == "regression" or artifact.kind == "linear":
        return artifact.predict(X), None
    return artifact.predict(X), artifact.predict_proba(X)


def _task_metrics(y: NumberArray, pred: NumberArray, proba: FloatArray | None) -> dict[str, float]:
    if proba is None:
        return metrics.regression_metrics(y, pred)
    return metrics.classification_metrics(y, pred, proba)
