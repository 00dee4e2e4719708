@security @nats
Feature: On the message bus, a tenant's client reaches its own subjects and nothing else
  The NATS server itself keeps tenants apart, with the permissions the platform gives each connection. A
  client connects with its tenant's API key and may publish and subscribe only on its tenant's subjects
  (ai.<component>.<operation>.<tenant>) and its own reply inbox. The streams, their consumers and the
  key-value bucket that caches the gateway's answers belong to the platform's services alone. A client
  with no key, or with a key the platform did not issue, does not get onto the bus at all.

  Scenario Outline: A client with <credential> is not let onto the message bus
    When a client with <credential> connects to the message bus
    Then the message bus refuses the connection as an authorization violation

    Examples:
      | credential                              |
      | no key                                  |
      | a made-up key                           |
      | the tenant's key with another signature |
      | the operator's key                      |

  Scenario: A client with its tenant's key is let onto the message bus
    When a client with the tenant's key connects to the message bus
    Then the message bus lets the client on

  Scenario Outline: A tenant's client works on its own <subject>
    When a client of the tenant "acme" tries to <act> the <subject> of the tenant "acme"
    Then the message bus lets it through

    Examples:
      | act          | subject             |
      | publish to   | completion requests |
      | publish to   | agent tasks         |
      | subscribe to | task results        |
      | subscribe to | dead letters        |
      | subscribe to | reply inbox         |

  Scenario Outline: A tenant's client cannot <act> the <subject> of another tenant
    When a client of the tenant "acme" tries to <act> the <subject> of the tenant "globex"
    Then the message bus refuses it as a permissions violation and nothing passes

    Examples:
      | act          | subject                 |
      | publish to   | completion requests     |
      | publish to   | questions               |
      | publish to   | documents for ingestion |
      | publish to   | agent messages          |
      | subscribe to | completion requests     |
      | subscribe to | agent messages          |
      | subscribe to | task results            |
      | subscribe to | dead letters            |
      | subscribe to | reply inbox             |

  Scenario Outline: A tenant's client cannot ask the JetStream API for <what>, which belongs to the services
    When a client of the tenant "acme" tries to ask for <what>
    Then the message bus refuses it as a permissions violation and nothing passes

    Examples:
      | what                                  |
      | the list of streams                   |
      | the ingestion stream                  |
      | the dead-letter stream                |
      | the consumers of the ingestion stream |

  Scenario Outline: A tenant's client cannot subscribe to <what>
    When a client of the tenant "acme" tries to subscribe to <what>
    Then the message bus refuses it as a permissions violation and nothing passes

    Examples:
      | what                    |
      | every key-value bucket  |
      | every tenant's subjects |
      | every reply inbox       |

  @gateway @scripted
  Scenario: Another tenant's cached answer stays out of reach of a tenant's client
    Given the language model answers "Globex ships rockets on Tuesdays." when asked about "rockets"
    When a client of the tenant "globex" asks the gateway service "When do the rockets ship?"
    And a client of the tenant "acme" tries to subscribe to every key-value bucket
    Then the message bus refuses it as a permissions violation and nothing passes
