"""The RAG service: a tenant's documents in, grounded answers and scored passages out, over HTTP.

Ingestion and retrieval are the in-process `ai_platform.rag` code, with embeddings and answers from
the gateway service. A document sent with `"async": true` goes over JetStream to the ingestion
worker, which runs inside this service for every tenant, beside the worker answering questions
from NATS (`nats_workers.py`).
"""

import asyncio
import os
import re
from collections.abc import Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Annotated

import httpx
import nats.errors
from fastapi import Request, Response
from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from ai_contract import routes
from ai_contract.codec import RAGDocument
from ai_platform.messaging import IngestionWorker, MessagingError, RagQueryWorker
from ai_platform.rag import (
    SUPPORTED_TYPES,
    ChunkingPolicy,
    Document,
    DocumentRejected,
    Ingestor,
    RetrievalSettings,
    Retriever,
    UnsupportedDocumentType,
)
from ai_platform.services.cache import forget_tenant
from ai_platform.services.config import dependency_timeout_s, number, required
from ai_platform.services.http import (
    CALL_LIMITS,
    Caller,
    Dependency,
    ServiceError,
    caller,
    create_service,
    error,
    ok,
    tls,
)
from ai_platform.services.inputs import Id, Metadata, Name, NonBlank, PathId, Strict, integer, one_of
from ai_platform.services.nats_workers import HostedWorkers, OnDemandClient, caller_from_message
from ai_platform.services.openapi import DEPENDENCIES, answers
from ai_platform.services.remote import GATEWAY, RemoteGateway
from ai_platform.store import DocumentSummary, LazyStore, Passage, StoredDocument

TopK = integer(1, 100)
# Vectors are stored as 32-bit floats: within this bound even the squares of 2,000 of them stay finite.
Coordinate = Annotated[float, Field(ge=-1e15, le=1e15)]
Threshold = Annotated[float, Field(ge=0, le=1)]
# The types the ingestor reads, with or without parameters ("text/markdown; charset=utf-8").
CONTENT_TYPE_PATTERN = rf"^({'|'.join(re.escape(t) for t in SUPPORTED_TYPES)}) *(;[ -~]*)?$"


def supported_type(value: str) -> str:
    if not re.match(CONTENT_TYPE_PATTERN, value):
        raise ValueError(f"has unsupported type {value!r}; supported types are {', '.join(SUPPORTED_TYPES)}")
    return value


ContentType = Annotated[str, AfterValidator(supported_type),
                        WithJsonSchema({"type": "string", "maxLength": 128, "pattern": CONTENT_TYPE_PATTERN})]


@dataclass(frozen=True)
class RagSettings:
    database_url: str
    dimensions: int
    gateway_url: str
    nats_url: str | None  # for documents sent with "async" (the workers read it as every service does)
    timeout_s: float
    chunking: ChunkingPolicy
    threshold: float
    ingest_ack_wait_s: float = 30.0  # JetStream redelivers a document not acknowledged within this time
    ingest_max_deliver: int = 5  # deliveries before a failing document is parked


def settings_from_env(environ: Mapping[str, str] = os.environ) -> RagSettings:
    return RagSettings(
        database_url=required("DATABASE_URL", environ), dimensions=int(required("EMBEDDING_DIMENSIONS", environ)),
        gateway_url=required("GATEWAY_SERVICE_URL", environ), nats_url=environ.get("NATS_URL") or None,
        timeout_s=dependency_timeout_s(environ),
        chunking=ChunkingPolicy(int(number("RAG_CHUNK_SIZE", 800, environ)),
                                int(number("RAG_CHUNK_OVERLAP", 100, environ))),
        threshold=number("RAG_SIMILARITY_THRESHOLD", 0.7, environ),
        ingest_ack_wait_s=number("RAG_INGEST_ACK_WAIT_S", 30.0, environ),
        ingest_max_deliver=int(number("RAG_INGEST_MAX_DELIVER", 5, environ)))


class DocumentIn(Strict):
    model_config = ConfigDict(populate_by_name=True)

    document_id: Id = None  # absent: made from the title
    title: Name
    content: NonBlank
    content_type: ContentType = "text/plain"
    metadata: Metadata = Field(default_factory=dict)
    queued: bool = Field(False, alias="async")

    def document(self) -> Document:
        return Document(self.document_id or document_id_of(self.title), self.title, self.content,
                        self.content_type, self.metadata)


class QueryIn(Strict):
    query: NonBlank
    top_k: TopK = 5
    threshold: Threshold = None  # absent: the deployment's


def search_model(dimensions: int) -> type[Strict]:
    """The search body of a knowledge base whose embeddings have `dimensions` numbers: a text or an
    embedding of that size, exactly one of them (the OpenAPI document says so with oneOf)."""

    class SearchIn(one_of("query_text", "query_embedding")):
        query_text: NonBlank = None
        query_embedding: Annotated[list[Coordinate], Field(min_length=dimensions, max_length=dimensions)] = None
        top_k: TopK = 5
        threshold: Threshold = None

    return SearchIn


def document_id_of(title: str) -> str:
    """The id of a document sent without one: its title, lower-case, non-alphanumerics as "-", at most 64."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64].strip("-") or "untitled"


def create_app():
    settings = settings_from_env()
    store = LazyStore(settings.database_url, settings.dimensions)
    client = httpx.Client(limits=CALL_LIMITS, verify=tls())  # one connection pool for every call to the gateway service
    gateway_service = Dependency(GATEWAY, settings.gateway_url, settings.timeout_s)

    def gateway_for(who: Caller) -> RemoteGateway:
        return RemoteGateway(settings.gateway_url, who, settings.timeout_s, client=client)

    def ingest(who: Caller, document: Document) -> StoredDocument:
        return Ingestor(store.get(), gateway_for(who), settings.chunking).ingest(who.tenant_id, document)

    def ingest_message(tenant_id: str, message: RAGDocument) -> StoredDocument | None:
        metadata = dict(message.metadata)
        ticket = metadata.pop("ticket", None)
        document = Document(message.document_id, str(metadata.get("title") or message.document_id),
                            message.content, str(metadata.get("content_type") or "text/plain"), metadata,
                            str(ticket) if ticket else None)
        return ingest(caller_from_message(tenant_id), document)

    def answer_message(tenant_id: str, question: str, top_k: int, threshold: float):
        retriever = Retriever(store.get(), gateway_for(caller_from_message(tenant_id)),
                              RetrievalSettings(top_k, threshold))
        return retriever.answer(tenant_id, question)

    queue = IngestionQueue(settings.nats_url)
    SearchIn = search_model(settings.dimensions)  # noqa: N806 - a type
    workers = HostedWorkers("rag", lambda bus: [
        RagQueryWorker(bus, None, answer_message),
        IngestionWorker(bus, None, ingest_message, permanent_errors=(DocumentRejected,),
                        ack_wait_s=settings.ingest_ack_wait_s, max_deliver=settings.ingest_max_deliver),
    ])

    @asynccontextmanager
    async def lifespan(_app):
        await workers.start()
        yield
        await workers.close()
        await queue.close()
        await gateway_service.close()
        client.close()
        await asyncio.to_thread(store.close)

    async def ready() -> dict[str, str | None]:
        database, gateway = await asyncio.gather(asyncio.to_thread(store.problem), gateway_service.ready())
        return {"database": database, GATEWAY: gateway, **workers.checked()}

    app = create_service("rag", ready, lifespan)
    app.add_exception_handler(OperationalError, database_unreachable)

    @app.post("/api/v1/rag/documents", **answers(202, 503, *DEPENDENCIES, success=201))
    async def add_document(request: Request, body: DocumentIn):
        who, document = caller(request), body.document()
        try:
            if body.queued:
                await queue.connect()  # first: no ticket for a document that cannot be queued
                ticket = await run_in_threadpool(store.get().queue_document, who.tenant_id, document.document_id)
                try:
                    message_id = await queue.submit(who.tenant_id, document, ticket)
                except ServiceError:
                    await run_in_threadpool(store.get().unqueue, ticket)
                    raise
                return ok(request, {"document_id": document.document_id, "message_id": message_id},
                          "Queued for ingestion.", 202)
            stored = await run_in_threadpool(ingest, who, document)
        except DocumentRejected as exc:
            raise refused(exc) from None
        return ok(request, {"document_id": stored.document_id, "title": stored.title, "chunks": stored.chunk_count,
                            "created": stored.created}, status=201)

    @app.get("/api/v1/rag/documents", **answers(503))
    def list_documents(request: Request):
        found = store.get().document_summaries(caller(request).tenant_id)
        return ok(request, {"documents": [summary(d) for d in found], "count": len(found)})

    @app.get("/api/v1/rag/documents/{document_id}", **answers(404, 503))
    def get_document(request: Request, document_id: PathId):
        found = store.get().document_summaries(caller(request).tenant_id, document_id)
        if not found:
            raise no_document(document_id)
        return ok(request, summary(found[0]))

    @app.delete("/api/v1/rag/documents/{document_id}", **answers(404, 503, success=204))
    def delete_document(request: Request, document_id: PathId):
        if not store.get().delete_document(caller(request).tenant_id, document_id):
            raise no_document(document_id)
        return Response(status_code=204)

    @app.delete(routes.TENANTS + "/{tenant_id}", **answers(503, success=204))
    async def remove_tenant(request: Request, tenant_id: PathId):
        """The operator's removal of everything the tenant owns: what NATS keeps of it first (queued and
        parked messages, its consumers, cached answers and counts), so nothing queued is stored after the
        rows go; then its documents, chunks, agents and memory."""
        await queue.forget(tenant_id)
        await run_in_threadpool(store.get().purge_tenant, tenant_id)
        return Response(status_code=204)

    @app.post("/api/v1/rag/query", **answers(503, *DEPENDENCIES))
    def query(request: Request, body: QueryIn):
        who = caller(request)
        chosen = RetrievalSettings(body.top_k, settings.threshold if body.threshold is None else body.threshold)
        answer = Retriever(store.get(), gateway_for(who), chosen).answer(who.tenant_id, body.query)
        usage = {"prompt_tokens": answer.usage.input_tokens, "completion_tokens": answer.usage.output_tokens,
                 "total_tokens": answer.usage.total_tokens}
        return ok(request, {"answer": answer.answer, "sources": answer.sources, "grounded": answer.grounded,
                            "passages": [passage(p) for p in answer.passages], "usage": usage})

    @app.post("/api/v1/rag/search", **answers(503, *DEPENDENCIES))
    def search(request: Request, body: SearchIn):
        who = caller(request)
        chosen = RetrievalSettings(body.top_k, settings.threshold if body.threshold is None else body.threshold)
        if body.query_text is not None:
            found = Retriever(store.get(), gateway_for(who), chosen).search(who.tenant_id, body.query_text)
        elif len(body.query_embedding) != settings.dimensions:
            raise ServiceError(400, "VALIDATION_ERROR", f"query_embedding has {len(body.query_embedding)} "
                               f"dimensions; this knowledge base stores {settings.dimensions}.",
                               {"field": "query_embedding", "dimensions": settings.dimensions})
        else:
            found = store.get().search(who.tenant_id, body.query_embedding, chosen.top_k, chosen.similarity_threshold)
        return ok(request, {"documents": [passage(p) for p in found], "scores": [p.score for p in found],
                            "count": len(found)})

    return app


class IngestionQueue:
    """Documents sent with "async": published to JetStream, for the ingestion workers to store."""

    def __init__(self, nats_url: str | None) -> None:
        self._nats = OnDemandClient(nats_url, "rag-service", "This RAG service has no NATS_URL, so it cannot queue "
                                    "documents; send them without \"async\".")

    async def connect(self) -> None:
        """The connection, made on first use: 503 naming NATS when there is none to make."""
        with _unavailable("Documents cannot be queued"):
            await self._nats.get()

    async def submit(self, tenant_id: str, document: Document, ticket: str) -> str:
        """The message id JetStream acknowledged."""
        with _unavailable("Documents cannot be queued"):
            client = await self._nats.get()
            return await client.publish_document(tenant_id, document.document_id, document.title, document.content,
                                                 ticket=ticket)

    async def forget(self, tenant_id: str) -> None:
        """Remove the tenant from NATS: stream messages, consumers, the gateway's cached answers and counts."""
        if not self._nats.url:
            return  # a deployment without NATS keeps nothing of a tenant there
        with _unavailable("The tenant's messages cannot be removed"):
            bus = (await self._nats.get()).bus
            await bus.purge_tenant(tenant_id)
            await forget_tenant(bus.js, tenant_id)

    async def close(self) -> None:
        await self._nats.close()


@contextmanager
def _unavailable(what: str):
    """NATS failing as the contract's 503 naming it."""
    try:
        yield
    except (MessagingError, nats.errors.Error, TimeoutError) as exc:
        raise ServiceError(503, "DEPENDENCY_UNAVAILABLE", f"{what}: {exc}",
                           {"dependency": "nats", "cause": getattr(exc, "reason", type(exc).__name__)}) from None


def refused(exc: DocumentRejected) -> ServiceError:
    field = "content_type" if isinstance(exc, UnsupportedDocumentType) else "content"
    return ServiceError(400, "VALIDATION_ERROR", f"The document was refused: {exc}.",
                        {"field": field, "reason": exc.reason})


def no_document(document_id: str) -> ServiceError:
    return ServiceError(404, "NOT_FOUND", f"There is no document {document_id!r}.", {"document_id": document_id})


def summary(document: DocumentSummary) -> dict:
    return {"document_id": document.document_id, "title": document.title, "content_type": document.content_type,
            "chunks": document.chunk_count}


def passage(found: Passage) -> dict:
    return {"document_id": found.document_id, "title": found.title, "ordinal": found.ordinal, "text": found.text,
            "score": found.score}


async def database_unreachable(request: Request, exc: OperationalError):
    return error(request, 503, "DEPENDENCY_UNAVAILABLE", "The database cannot be reached.",
                 {"dependency": "database", "cause": type(exc.orig).__name__})
