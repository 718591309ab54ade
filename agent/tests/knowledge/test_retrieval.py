"""Retrieval as the offline answerer and the memory search rely on it: stems and synonyms make paraphrases meet,
scores stay in [0, 1] and mean the same thing whatever the question, and a synonym provider (the semantic
layer, issue 16) changes what matches."""

import pytest

from agent.knowledge import retrieval
from agent.knowledge.retrieval import Index, rank, tokens
from agent.knowledge.stemmer import stem
from agent.knowledge.synonyms import register_synonym_provider, synonyms_for, unregister_synonym_provider

SAVED = [
    {"id": "1", "question": "How many customers do we have?", "sql": "SELECT 1"},
    {"id": "2", "question": "How many orders were cancelled?", "sql": "SELECT 2"},
    {"id": "3", "question": "How many orders are there?", "sql": "SELECT 3"},
    {"id": "4", "question": "What is the average salary by department?", "sql": "SELECT 4"},
]


@pytest.mark.parametrize(
    ("words", "same"),
    [
        (("cancelled", "canceled", "cancellation", "cancel"), True),
        (("customers", "customer"), True),
        (("hiring", "hired", "hires"), True),
        (("category", "categories"), True),
        (("ordered", "orders"), True),
        (("order", "ordinary"), False),
    ],
)
def test_stems_join_inflections(words, same):
    assert (len({stem(word) for word in words}) == 1) is same


def test_tokens_apply_phrases_before_dropping_stop_words():
    assert tokens("How many clients do we have?") == tokens("number of customers")
    assert tokens("What's the headcount?") == ["count", "employe"]
    assert tokens("orders not yet shipped") == tokens("pending orders")[::-1]
    assert tokens("the of and 2024 ?") == []


def test_the_question_itself_scores_one_and_scores_stay_in_range():
    for candidate in SAVED:
        [best, *rest] = rank(candidate["question"], SAVED, limit=4)
        assert best["id"] == candidate["id"] and best["score"] == 1.0
        assert all(0 <= c["score"] <= 1 for c in rest)


def test_a_candidate_adding_a_condition_ranks_below_the_plain_one():
    [first, second, *_] = rank("How many orders do we have?", SAVED)
    assert (first["id"], second["id"]) == ("3", "2") and first["score"] > second["score"]


def test_an_unknown_word_keeps_a_question_far_from_one_sharing_only_common_words():
    [best] = rank("How many suppliers do we have?", SAVED, limit=1)
    [near] = rank("How many clients do we have?", SAVED, limit=1)
    assert near["id"] == "1" and near["score"] == 1.0
    assert best["score"] < 0.6


def test_no_shared_word_no_result_and_candidates_keep_their_fields():
    assert rank("weather in Riyadh", SAVED) == []
    assert rank("", SAVED) == [] and rank("customers", []) == []
    [found] = rank("customers", SAVED, limit=1)
    assert found == {**SAVED[0], "score": found["score"]}


def test_the_index_is_reused_while_the_candidates_are_the_same():
    first = retrieval.index_for(SAVED)
    assert retrieval.index_for([dict(c) for c in SAVED]) is first
    changed = [*SAVED[:3], {**SAVED[3], "question": "What do engineers earn?"}]
    assert retrieval.index_for(changed) is not first


def test_a_synonym_provider_adds_terms_for_its_data_source():
    question = "How many patrons rang up a chargeback?"
    saved = [*SAVED, {"id": "5", "question": "How many customers got a refund?", "sql": "SELECT 5"}]
    before = rank(question, saved, limit=1)

    def semantic_terms(data_source):
        return {"refund": ["chargeback", "rang up a chargeback"]} if data_source == "shop" else {}

    register_synonym_provider(semantic_terms)
    try:
        assert synonyms_for("other").fingerprint == synonyms_for(None).fingerprint
        after = rank(question, saved, limit=1, synonyms=synonyms_for("shop"))
    finally:
        unregister_synonym_provider(semantic_terms)
    assert before[0]["score"] < after[0]["score"] == 1.0
    assert after[0]["id"] == "5"


def test_search_is_fast_on_a_large_corpus():
    """The p50 goal of issue 16 is 20 ms at 10,000 memories; ``bench/offline_retrieval.py`` measures it."""
    import time

    corpus = [
        {"id": str(i), "question": f"{SAVED[i % 4]['question']} in region {i} for product line {i * 7}"}
        for i in range(10_000)
    ]
    index = Index(corpus)
    start = time.perf_counter()
    for _ in range(10):
        index.search("how many orders were cancelled in region 42?", 5)
    assert (time.perf_counter() - start) / 10 < 0.2  # generous: a shared CI machine


@pytest.mark.parametrize("question", ["How many?", "How many tables are there?", "top 10", "each month", "average"])
def test_qualifiers_alone_never_match_a_saved_question(question):
    """Sharing "how many" or "each month" says how to measure, not what: no demo question may run for these."""
    from agent.engine.offline import MATCH_THRESHOLD

    from .evaluate import demo_candidates

    found = Index(demo_candidates()).search(question, 1)
    assert not found or found[0]["score"] < MATCH_THRESHOLD, found


@pytest.mark.parametrize(
    "asked",
    [
        "How many orders were placed in 2024?",
        "How many customers are based in Germany?",
        "How many employees earn more than 60,000?",
    ],
)
def test_a_number_or_name_the_saved_question_lacks_keeps_it_under_the_threshold(asked):
    """Found by the demo evaluation set: these ran "How many orders/customers/employees?" at similarity 1.0."""
    from agent.engine.offline import MATCH_THRESHOLD

    saved = [
        {"id": 1, "question": "How many orders are there?"},
        {"id": 2, "question": "How many customers do we have?"},
        {"id": 3, "question": "How many employees are there?"},
    ]
    best = rank(asked, saved, limit=1)
    assert not best or best[0]["score"] < MATCH_THRESHOLD


def test_the_same_specifics_do_not_count_against_a_candidate():
    saved = [{"id": 1, "question": "How many customers are in Germany?"}]
    assert rank("Number of customers based in Germany", saved)[0]["score"] >= 0.6
