@security @services
Feature: Every request says who is calling, and its key decides the tenant
  Every route of the four services needs an API key, sent as "Authorization: Bearer <key>" the way the
  official OpenAI clients send it. The tenant is the key's: a request that names another tenant is
  refused, and no key, or a key the platform did not issue, gets nothing but a 401. The operator's routes
  (issuing a tenant's key, removing a tenant) need the operator's key, which in turn acts for no tenant.
  Only /health, /ready and the OpenAPI document are open to anyone.

  Scenario Outline: <door> with <credential> is refused with <status> <code>
    When a client with <credential> sends <door>
    Then the service answers <status> with the error code "<code>" naming "<named>"

    Examples: No key
      | door                          | credential | status | code            | named         |
      | a completion request          | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a streamed completion request | no key     | 401    | UNAUTHENTICATED | Authorization |
      | an embeddings request         | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a cache statistics request    | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a document                    | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a document list               | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a question                    | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a search                      | no key     | 401    | UNAUTHENTICATED | Authorization |
      | an agent                      | no key     | 401    | UNAUTHENTICATED | Authorization |
      | an agent list                 | no key     | 401    | UNAUTHENTICATED | Authorization |
      | a query                       | no key     | 401    | UNAUTHENTICATED | Authorization |

    Examples: A key the platform did not issue, or the wrong kind of key
      | door                      | credential                              | status | code            | named     |
      | a question                | a made-up key                           | 401    | UNAUTHENTICATED | not valid |
      | a completion request      | the tenant's key with another signature | 401    | UNAUTHENTICATED | not valid |
      | a document list           | the tenant's key under another prefix   | 401    | UNAUTHENTICATED | not valid |
      | an agent list             | the tenant's key with the Basic scheme  | 401    | UNAUTHENTICATED | Bearer    |
      | a query                   | the operator's key                      | 403    | FORBIDDEN       | operator  |

  Scenario Outline: The scheme of a key is read in any case, as HTTP allows: <door> under "<scheme>" is served
    When a client sends <door> with the tenant's key under the scheme "<scheme>"
    Then the service serves the request

    Examples:
      | door            | scheme |
      | a document list | bearer |
      | an agent list   | BEARER |
      | a query         | bEaReR |

  Scenario Outline: <door> with <credential> gets the <type> error OpenAI clients read
    When a client with <credential> sends <door>
    Then the gateway answers <status> with an OpenAI error of the type "<type>" and the code "<code>"

    Examples:
      | door                         | credential                              | status | type                 | code            |
      | an OpenAI chat completion    | no key                                  | 401    | authentication_error | UNAUTHENTICATED |
      | an OpenAI embeddings request | no key                                  | 401    | authentication_error | UNAUTHENTICATED |
      | an OpenAI model list         | no key                                  | 401    | authentication_error | UNAUTHENTICATED |
      | an OpenAI model list         | the tenant's key with another signature | 401    | authentication_error | UNAUTHENTICATED |
      | an OpenAI chat completion    | the operator's key                      | 403    | permission_error     | FORBIDDEN       |

  Scenario Outline: A client that names another tenant than its key's gets <door> refused
    Given the tenant "globex" has added the document "Globex price list" with the text "The rocket costs 900 dollars at Globex, delivery extra." through the RAG API
    When a client of the tenant "acme" sends <door> naming the tenant "globex"
    Then the service answers 403 with the error code "TENANT_MISMATCH" naming "X-Tenant-ID"
    And the RAG API lists "Globex price list" for the tenant "globex"

    Examples:
      | door                 |
      | a document list      |
      | a question           |
      | a completion request |
      | a query              |

  Scenario: The key, not the header, decides whose documents a client sees
    Given the tenant "globex" has added the document "Globex price list" with the text "The rocket costs 900 dollars at Globex, delivery extra." through the RAG API
    Then the RAG API lists nothing for the tenant "acme"
    And the RAG API lists "Globex price list" for the tenant "globex"

  Scenario Outline: A tenant's key cannot <action> of another tenant
    Given the tenant "globex" has added the document "Globex price list" with the text "The rocket costs 900 dollars at Globex, delivery extra." through the RAG API
    When a client of the tenant "acme" asks the operator route to <action> of the tenant "globex"
    Then the service answers 403 with the error code "FORBIDDEN" naming "operator"
    And the RAG API lists "Globex price list" for the tenant "globex"

    Examples:
      | action                  |
      | remove everything       |
      | issue a key             |
