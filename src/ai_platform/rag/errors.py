"""Why a document was refused. Each carries a short reason code and a sentence for people."""

from __future__ import annotations


class DocumentRejected(ValueError):
    reason = "rejected"


class EmptyDocument(DocumentRejected):
    reason = "empty_document"

    def __init__(self, document_id: str) -> None:
        super().__init__(f"document {document_id!r} is empty: there is no text to store")


class UnsupportedDocumentType(DocumentRejected):
    reason = "unsupported_type"

    def __init__(self, document_id: str, content_type: str, supported: tuple[str, ...]) -> None:
        self.content_type = content_type
        super().__init__(
            f"document {document_id!r} has unsupported type {content_type!r}; supported types are "
            + ", ".join(supported)
        )
