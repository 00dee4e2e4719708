"""Steps for the knowledge base: adding documents, asking questions, what is stored."""


from behave import given, then, when

from harness.drivers import knowledge_base as kb


@given("documents are split into chunks of at most {size:d} characters that overlap by {overlap:d}")
def step_chunking(context, size, overlap):
    context.world.configure(size=size, overlap=overlap)


@given("the knowledge base only uses passages with a similarity of at least {threshold:g}")
def step_threshold(context, threshold):
    context.world.configure(similarity_threshold=threshold)


@given("the knowledge base of the tenant holds these documents:")
def step_documents_table(context):
    for row in context.table:
        kb.add_document(context.world, row["title"], row["text"])


@given('the tenant has added the document "{title:Q}" with the text "{text:Q}"')
@given('the tenant "{tenant:Name}" has added the document "{title:Q}" with the text "{text:Q}"')
def step_has_added(context, title, text, tenant=None):
    kb.add_document(context.world, title, text, tenant=tenant)


@when('the tenant adds the document "{title:Q}" with the text "{text:Q}"')
def step_add_document(context, title, text):
    context.world.attempt(lambda: kb.add_document(context.world, title, text))


@when('the tenant adds the document "{title:Q}" with this text:')
def step_add_document_text(context, title):
    context.world.document_text = context.text
    context.world.attempt(lambda: kb.add_document(context.world, title, context.text))


@when('the tenant adds the document "{title:Q}" of type "{content_type:Q}" with the text "{text:Q}"')
def step_add_typed_document(context, title, content_type, text):
    context.world.attempt(lambda: kb.add_document(context.world, title, text, content_type=content_type))


@when('the tenant asks the knowledge base "{question:Q}"')
@when('the tenant "{tenant:Name}" asks the knowledge base "{question:Q}"')
def step_ask(context, question, tenant=None):
    context.world.answer = kb.ask(context.world, question, tenant=tenant)


@then('the knowledge base of the tenant holds the document "{title:Q}"')
def step_holds(context, title):
    assert context.world.error is None, f"expected the document to be stored, it was refused: {context.world.error}"
    held = kb.titles(context.world)
    assert kb.document_id(title) in held, f"expected {title!r} in the knowledge base, it holds {held}"


@then('the knowledge base of the tenant holds the document "{title:Q}" once, as {count:d} chunk')
def step_holds_once(context, title, count):
    held = kb.titles(context.world)
    assert held == [kb.document_id(title)], f"expected only {title!r} once, the knowledge base holds {held}"
    chunks = kb.chunks_of(context.world, title)
    assert len(chunks) == count, f"expected {count} chunk(s) of {title!r}, found {len(chunks)}"


@then('the knowledge base of the tenant "{tenant:Name}" holds only "{title:Q}"')
def step_holds_only(context, tenant, title):
    held = kb.titles(context.world, tenant=tenant)
    assert held == [kb.document_id(title)], f"expected tenant {tenant} to hold only {title!r}, it holds {held}"


@then('"{title:Q}" is stored as {count:d} chunks of at most {size:d} characters')
def step_chunk_count(context, title, count, size):
    chunks = kb.chunks_of(context.world, title)
    lengths = [len(c.text) for c in chunks]
    assert len(chunks) == count, f"expected {count} chunks of {title!r}, found {len(chunks)} of lengths {lengths}"
    assert max(lengths) <= size, f"expected no chunk longer than {size} characters, lengths were {lengths}"


@then('every chunk of "{title:Q}" keeps its text and an embedding from the embedding model')
def step_chunks_embedded(context, title):
    dimensions = context.world.session.dimensions
    for chunk in kb.chunks_of(context.world, title):
        assert chunk.text.strip(), f"chunk {chunk.ordinal} of {title!r} has no text"
        assert chunk.dimensions == dimensions, (
            f"chunk {chunk.ordinal} has an embedding of {chunk.dimensions} dimensions, expected {dimensions}"
        )


@then('the chunks of "{title:Q}" together cover the whole text, in order')
def step_chunks_cover(context, title):
    text = " ".join(context.world.document_text.split())
    covered_to, position = 0, 0
    for chunk in kb.chunks_of(context.world, title):
        piece = " ".join(chunk.text.split())
        found = text.find(piece, position)
        assert found != -1, f"chunk {chunk.ordinal} is not a passage of the document, in order: {piece!r}"
        gap = text[covered_to:found]
        assert found <= covered_to + 1, f"text between {covered_to} and {found} is in no chunk: {gap!r}"
        covered_to, position = max(covered_to, found + len(piece)), found + 1
    assert covered_to == len(text), f"the end of the document is in no chunk: {text[covered_to:]!r}"


@then('the stored text of "{title:Q}" mentions "{present:Q}" and not "{absent:Q}"')
def step_stored_text(context, title, present, absent):
    text = " ".join(c.text for c in kb.chunks_of(context.world, title))
    assert present in text and absent not in text, f"expected {present!r} and not {absent!r} in {text!r}"


@then("the document is refused because it {reason}")
def step_refused(context, reason):
    error = context.world.error
    assert error is not None, f"expected the document to be refused because it {reason}, it was stored"
    assert reason in str(error), f"expected the refusal to say {reason!r}, it said: {error}"


@then("adding the document fails because the model provider is unavailable")
def step_ingest_provider_down(context):
    error = context.world.error
    assert error is not None and getattr(error, "reason", "") == "provider_unavailable", (
        f"expected adding the document to fail with provider_unavailable, got: {error!r}"
    )


@then("nothing is stored for the tenant")
def step_nothing_stored(context):
    rows = kb.rows_of(context.world)
    assert not any(rows.values()), f"expected no rows for the tenant, found {rows}"


@then('the answer is "{text:Q}"')
def step_answer_is(context, text):
    assert context.world.answer.answer == text, f"expected the answer {text!r}, got {context.world.answer.answer!r}"


@then('the answer cites "{title:Q}"')
def step_cites(context, title):
    sources = context.world.answer.sources
    assert title in sources, f"expected {title!r} among the sources, the answer cited {sources}"


@then('the answer does not cite "{title:Q}"')
def step_not_cites(context, title):
    sources = context.world.answer.sources
    assert title not in sources, f"expected {title!r} not to be cited, the answer cited {sources}"


@then("the answer cites no source")
def step_no_sources(context):
    assert context.world.answer.sources == [], f"expected no sources, got {context.world.answer.sources}"


@then("the answer says the knowledge base does not cover the question")
def step_not_covered(context):
    answer = context.world.answer
    says_so = "not find" in answer.answer and "knowledge base" in answer.answer
    assert says_so and not answer.grounded, (
        f"expected the 'not in the knowledge base' answer, got {answer.answer!r} "
        f"from passages {[(p.title, round(p.score, 3)) for p in answer.passages]}"
    )
