"""Header names: on NATS messages and on HTTP requests and responses."""

# HTTP (and, for the tenant, NATS too)
AUTHORIZATION = "Authorization"
USER = "X-User-ID"
REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"

# NATS

MESSAGE_ID = "Nats-Msg-Id"  # also JetStream's de-duplication key
TENANT = "X-Tenant-ID"  # HTTP and NATS
SOURCE_AGENT = "X-Source-Agent"
TARGET_AGENT = "X-Target-Agent"
ERROR_CODE = "X-Error-Code"
ERROR_MESSAGE = "X-Error-Message"
DEAD_LETTER_REASON = "X-Dead-Letter-Reason"
DEAD_LETTER_DETAIL = "X-Dead-Letter-Detail"
ORIGINAL_SUBJECT = "X-Original-Subject"
SERVED_BY = "X-Served-By"  # the connection name of the worker that answered, for operators
