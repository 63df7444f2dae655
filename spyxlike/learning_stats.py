"""Learning statistics: accumulate loss and accuracy, print, plot, save.

Follows SLAYER's ``learningStats`` module. A :class:`LearningStat` sums loss
and correct samples over a session (an epoch) and, at :meth:`LearningStat.update`,
logs the session's mean loss and accuracy and tracks the best values;
:class:`LearningStats` holds one for ``training`` and one for ``testing``.

Differences from SLAYER (all deliberate):

* ``accuracy()`` is ``0.0`` when samples were seen but none was correct
  (SLAYER returns ``None`` then); ``None`` still means "no samples".
* A session without samples logs ``nan`` (SLAYER logs ``None`` and then
  fails to compare it); best-value tracking skips it.
* The first logged value counts as the best so far (``best_loss`` /
  ``best_accuracy`` are ``True`` after the first ``update``).
* :meth:`LearningStats.print` rewrites ONE terminal line with a carriage
  return (``\\r``, no ANSI cursor movement, so it also works in notebooks
  and log files that understand ``\\r``); pass ``final=True`` to end the
  line. SLAYER moves the cursor up with ANSI escapes and prints three lines.
* :meth:`LearningStats.plot` writes one PNG with a loss and an accuracy
  panel through matplotlib's Agg canvas (the global backend is untouched);
  SLAYER draws into pyplot figures 1 and 2.
* :meth:`LearningStats.save` writes SLAYER's two text files
  ``{prefix}loss.txt`` and ``{prefix}accuracy.txt`` (a ``#  Train  Test``
  header, then ``%12.6g %12.6g`` per epoch; ``nan`` for missing values,
  where SLAYER writes 0 for a missing test accuracy) with ``\\n`` line ends;
  :meth:`LearningStats.load` reads them back (and SLAYER's own files).
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from .axn import _check_int

__all__ = ["LearningStat", "LearningStats"]


class LearningStat:
    """Statistics of one phase (training or testing), SLAYER's ``learningStat``.

    Accumulate into the public counters during a session::

        stat.loss_sum += float(loss) ; stat.correct_samples += int(correct)
        stat.num_samples += batch_size

    (SLAYER's camelCase ``lossSum``, ``correctSamples``, ``numSamples``,
    ``minloss``, ``maxAccuracy``, ``lossLog``, ``accuracyLog``, ``bestLoss``,
    ``bestAccuracy`` are aliases of the snake_case attributes.)

    Attributes:
      loss_sum: sum of the losses of the session (as accumulated).
      correct_samples: number of correctly classified samples.
      num_samples: number of samples.
      min_loss: smallest logged loss (``None`` before the first).
      max_accuracy: largest logged accuracy (``None`` before the first).
      loss_log: per-session mean losses (``nan`` for empty sessions).
      accuracy_log: per-session accuracies.
      best_loss: whether the last :meth:`update` set a new ``min_loss``.
      best_accuracy: whether the last :meth:`update` set a new
        ``max_accuracy``.
    """

    def __init__(self):
        self.loss_sum = 0.0
        self.correct_samples = 0
        self.num_samples = 0
        self.min_loss = None
        self.max_accuracy = None
        self.loss_log = []
        self.accuracy_log = []
        self.best_loss = False
        self.best_accuracy = False

    def reset(self):
        """Zero the session counters (``loss_sum``, ``correct_samples``,
        ``num_samples``); logs and best values are kept."""
        self.loss_sum = 0.0
        self.correct_samples = 0
        self.num_samples = 0

    def loss(self):
        """Mean loss of the session, ``loss_sum / num_samples``, or ``None``
        without samples."""
        return self.loss_sum / self.num_samples if self.num_samples > 0 else None

    def accuracy(self):
        """``correct_samples / num_samples``, or ``None`` without samples."""
        if self.num_samples > 0:
            return self.correct_samples / self.num_samples
        return None

    def update(self):
        """Log the session's loss and accuracy and update the best values.

        The counters are not reset (call :meth:`reset`, or
        :meth:`LearningStats.update`, which does both, like SLAYER).
        """
        loss, acc = self.loss(), self.accuracy()
        self.loss_log.append(float("nan") if loss is None else float(loss))
        self.accuracy_log.append(float("nan") if acc is None else float(acc))
        self.best_loss = loss is not None and (self.min_loss is None
                                               or loss < self.min_loss)
        if self.best_loss:
            self.min_loss = float(loss)
        self.best_accuracy = acc is not None and (self.max_accuracy is None
                                                  or acc > self.max_accuracy)
        if self.best_accuracy:
            self.max_accuracy = float(acc)

    def display_string(self):
        """One-line summary, or ``None`` without samples."""
        loss, acc = self.loss(), self.accuracy()
        if loss is None:
            return None
        out = f"loss {loss:.5g}"
        if self.min_loss is not None:
            out += f" (min {self.min_loss:.5g})"
        out = out.ljust(30) + f" accuracy {acc:.5g}"
        if self.max_accuracy is not None:
            out += f" (max {self.max_accuracy:.5g})"
        return out

    _ALIASES = {
        "lossSum": "loss_sum", "correctSamples": "correct_samples",
        "numSamples": "num_samples", "minloss": "min_loss",
        "maxAccuracy": "max_accuracy", "lossLog": "loss_log",
        "accuracyLog": "accuracy_log", "bestLoss": "best_loss",
        "bestAccuracy": "best_accuracy",
    }

    def __getattr__(self, name):
        alias = type(self)._ALIASES.get(name)
        if alias is None:
            raise AttributeError(f"{type(self).__name__} has no attribute "
                                 f"{name!r}")
        return getattr(self, alias)

    def __setattr__(self, name, value):
        super().__setattr__(type(self)._ALIASES.get(name, name), value)

    def __repr__(self):
        return (f"LearningStat(epochs={len(self.loss_log)}, "
                f"min_loss={self.min_loss}, max_accuracy={self.max_accuracy})")


class LearningStats:
    """Training and testing statistics (SLAYER's ``learningStats``).

    Usage::

        stats = LearningStats()
        for epoch in range(epochs):
            stats.training.reset()
            for i, batch in enumerate(train_batches):
                ...
                stats.training.loss_sum += float(loss) * len(batch)
                stats.training.correct_samples += int(correct)
                stats.training.num_samples += len(batch)
                stats.print(epoch, i, time_elapsed)
            stats.training.update()
            ...  # the same with stats.testing
            stats.print(epoch, final=True)
        stats.save("run1-")          # run1-loss.txt, run1-accuracy.txt
        stats.plot("run1-curves.png")

    Attributes:
      training: the training :class:`LearningStat`.
      testing: the testing :class:`LearningStat`.
    """

    def __init__(self):
        self.training = LearningStat()
        self.testing = LearningStat()
        self._last_len = 0

    def update(self):
        """:meth:`LearningStat.update` then :meth:`LearningStat.reset`, for
        training and testing."""
        for stat in (self.training, self.testing):
            stat.update()
            stat.reset()

    def line(self, epoch, iter=None, time_elapsed=None, header=None):
        """The text :meth:`print` shows, without the carriage return."""
        epoch = _check_int("epoch", epoch)
        parts = [] if header is None else [str(header)]
        head = f"Epoch {epoch:5d}"
        if iter is not None:
            head += f" (i = {_check_int('iter', iter):6d})"
        if time_elapsed is not None:
            head += f", {float(time_elapsed) * 1000:10.2f} ms elapsed"
        parts.append(head)
        for name, stat in (("train", self.training), ("test", self.testing)):
            text = stat.display_string()
            if text is not None:
                parts.append(f"{name}: {text.rstrip()}")
        return " | ".join(parts)

    def print(self, epoch, iter=None, time_elapsed=None, header=None, *,
              final=False, file=None):
        """Show the current statistics on ONE terminal line, rewritten in
        place.

        Writes ``"\\r" + line`` (padded with spaces to cover a longer previous
        line) and flushes; ``final=True`` ends the line with ``"\\n"`` so the
        next call starts a new one.

        Args:
          epoch: epoch counter (required).
          iter: iteration counter (optional).
          time_elapsed: seconds elapsed (shown in ms, like SLAYER).
          header: optional text put first on the line.
          final: end the line after writing.
          file: stream to write to (default ``sys.stdout``).
        """
        text = self.line(epoch, iter, time_elapsed, header)
        stream = sys.stdout if file is None else file
        pad = max(self._last_len - len(text), 0)
        stream.write("\r" + text + " " * pad + ("\n" if final else ""))
        stream.flush()
        self._last_len = 0 if final else len(text)

    def plot(self, path, title=None):
        """Save the logged curves to a PNG: loss (log scale) and accuracy
        against the epoch, training and testing together.

        Uses matplotlib's Agg canvas directly; the global backend is not
        changed. Raises ``ValueError`` when nothing has been logged.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if not self.training.loss_log and not self.testing.loss_log:
            raise ValueError("LearningStats.plot: nothing logged yet (call "
                             "update() after each epoch)")
        fig = Figure(figsize=(8.0, 3.2))
        FigureCanvasAgg(fig)
        for i, (ylabel, attr, log) in enumerate(
                (("loss", "loss_log", True), ("accuracy", "accuracy_log",
                                              False))):
            ax = fig.add_subplot(1, 2, i + 1)
            for label, stat in (("training", self.training),
                                ("testing", self.testing)):
                values = np.asarray(getattr(stat, attr), float)
                if values.size and not np.all(np.isnan(values)):
                    ax.plot(np.arange(values.size), values, marker="o",
                            label=label)
            if log and ax.lines and all(
                    np.nanmin(line.get_ydata()) > 0 for line in ax.lines):
                ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)

    @staticmethod
    def _write(path, train, test):
        n = max(len(train), len(test))
        pad = lambda v: list(v) + [float("nan")] * (n - len(v))  # noqa: E731
        with open(path, "w", encoding="ascii") as f:
            f.write("#%11s %11s\n" % ("Train", "Test"))
            for a, b in zip(pad(train), pad(test)):
                f.write("%12.6g %12.6g\n" % (a, b))

    def save(self, prefix=""):
        """Write ``{prefix}loss.txt`` and ``{prefix}accuracy.txt`` (SLAYER's
        format, see the module docstring). ``prefix`` may include a
        directory, e.g. ``"Trained/run1-"``."""
        prefix = os.fspath(prefix)
        self._write(prefix + "loss.txt", self.training.loss_log,
                    self.testing.loss_log)
        self._write(prefix + "accuracy.txt", self.training.accuracy_log,
                    self.testing.accuracy_log)

    @staticmethod
    def _read(path):
        try:
            data = np.loadtxt(path, ndmin=2, comments="#")
        except ValueError as exc:
            raise ValueError(f"{path}: not a learning-statistics file (two "
                             f"numeric columns Train, Test): {exc}") from None
        if data.size and data.shape[1] != 2:
            raise ValueError(f"{path}: expected two columns (Train, Test); "
                             f"got {data.shape[1]}")
        return data.reshape(-1, 2)

    @classmethod
    def load(cls, prefix="", num_epochs=None):
        """Read the files written by :meth:`save` (or by SLAYER) into a new
        :class:`LearningStats`, restoring logs and best values.

        Args:
          prefix: the prefix given to :meth:`save`.
          num_epochs: load only the first ``num_epochs`` rows (default all).
        """
        prefix = os.fspath(prefix)
        loss = cls._read(prefix + "loss.txt")
        acc = cls._read(prefix + "accuracy.txt")
        if num_epochs is not None:
            num_epochs = _check_int("num_epochs", num_epochs, lo=0)
            loss, acc = loss[:num_epochs], acc[:num_epochs]
        out = cls()
        for col, stat in enumerate((out.training, out.testing)):
            stat.loss_log = loss[:, col].tolist()
            stat.accuracy_log = acc[:, col].tolist()
            finite = [v for v in stat.loss_log if not math.isnan(v)]
            stat.min_loss = min(finite) if finite else None
            finite = [v for v in stat.accuracy_log if not math.isnan(v)]
            stat.max_accuracy = max(finite) if finite else None
        return out
