"""Steps that check the platform against real models (-D llm=local), where answers cannot be scripted."""

from behave import given, then

from harness.llm.embeddings import content_words


@given('the question "{question:Q}" shares no word with the document "{title:Q}"')
def step_no_shared_word(context, question, title):
    """The spec's own claim, checked: no content word (stop words dropped, light stemming) in common, so only an
    embedding model that knows meaning can match them (the scripted embedder, which hashes words, cannot)."""
    text = context.world.knowledge_base.texts[title]
    shared = set(content_words(question)) & set(content_words(text))
    assert not shared, f"the question {question!r} shares {sorted(shared)} with {title!r}: not a paraphrase"


@then('the answer cites only "{title:Q}"')
def step_cites_only(context, title):
    """The answer names that document and no other."""
    answer = context.world.outcome.expect_result("an answer")
    scores = [(p.title, round(p.score, 3)) for p in answer.passages]
    assert answer.sources == [title], f"expected only {title!r} cited, the answer cited {answer.sources} ({scores})"


@then("the answer is the text the language model gave")
def step_answer_from_model(context):
    """The platform returns the model's own answer (as the model server sent it), not empty and not another."""
    answer = context.world.outcome.expect_result("an answer").answer
    chats = context.world.model.chats()
    assert chats, "expected the language model to have been asked, it was not"
    given = chats[-1].answer
    assert given.strip(), f"expected an answer from the language model, it gave {given!r}"
    assert answer == given, f"expected the model's answer {given!r}, the platform answered {answer!r}"


@then("the pieces join to the answer the language model gave")
def step_pieces_join_model(context):
    """The streamed pieces make up exactly what the model server streamed."""
    joined = "".join(context.world.outcome.expect_result("a stream").pieces)
    chats = context.world.model.chats()
    assert chats, "expected the language model to have been asked, it was not"
    given = chats[-1].answer
    assert given.strip(), f"expected an answer from the language model, it gave {given!r}"
    assert joined == given, f"expected the pieces to join to the model's answer {given!r}, they joined to {joined!r}"
