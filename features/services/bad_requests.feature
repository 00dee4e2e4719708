@services
Feature: Every service answers bad input with a 4xx error that names the problem
  A client that sends something the platform cannot use is told so with the status and the error
  code of the contract, and the field or value at fault; never a 500, never a dropped connection,
  never a 200 with an error inside.

  Scenario Outline: A <method> to the <service> service's route <path> is a 405 that lists the methods the route takes
    When a client sends a "<method>" request to the <service> service's route "<path>"
    Then the service answers 405 with the error code "METHOD_NOT_ALLOWED" naming "<method>"
    And the answer's Allow header lists exactly "<allowed>"

    Examples:
      | service | method | path                                 | allowed        |
      | rag     | PUT    | /api/v1/rag/documents                | GET, POST      |
      | rag     | POST   | /api/v1/rag/documents/refund-policy  | DELETE, GET    |
      | gateway | GET    | /api/v1/gateway/generate             | POST           |

  Scenario Outline: The <service> service answers <request> with <status> <code>
    When a client sends the <service> service <request>
    Then the service answers <status> with the error code "<code>" naming "<named>"

    Examples: RAG
      | service | request                                        | status | code             | named             |
      | rag     | a document without a title                     | 400    | VALIDATION_ERROR | title             |
      | rag     | a document with an empty text                  | 400    | VALIDATION_ERROR | empty             |
      | rag     | a document of type "application/pdf"           | 400    | VALIDATION_ERROR | application/pdf   |
      | rag     | a question asking for the top 0 passages       | 400    | VALIDATION_ERROR | top_k             |
      | rag     | a search with neither a text nor an embedding  | 400    | VALIDATION_ERROR | query_text        |
      | rag     | a request for the document "never-added"       | 404    | NOT_FOUND        | never-added       |
      | rag     | a body that is not JSON                        | 422    | MALFORMED_BODY   | JSON              |

    Examples: Agents
      | service | request                                        | status | code             | named             |
      | agent   | an agent with the tool "crystal_ball"          | 400    | VALIDATION_ERROR | crystal_ball      |
      | agent   | a message to the agent "nobody"                | 404    | NOT_FOUND        | nobody            |
      | agent   | a body of 2 MiB                                | 413    | PAYLOAD_TOO_LARGE | bytes            |

    Examples: Unified query
      | service | request                                        | status | code              | named            |
      | query   | a query in the mode "psychic"                  | 400    | VALIDATION_ERROR  | mode             |
      | query   | a query without an API key                     | 401    | UNAUTHENTICATED   | Authorization    |
      | query   | a blank query                                  | 400    | VALIDATION_ERROR  | query            |
      | query   | a GET to the completion route                  | 405    | METHOD_NOT_ALLOWED | GET             |
