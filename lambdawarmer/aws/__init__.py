"""Signed AWS calls from inside a function, standard library only: a package by job.

boto3 costs 0.35 s to import on a whole core and 5 s at 128 MB's 7% of one, the very cold start we
exist to remove; the layer makes three calls (Lambda Invoke, CloudWatch GetMetricData and
PutMetricData), so it makes them itself over ``http.client`` with Signature Version 4 (sigv4.py).
Importing this module and what it needs costs ~35 ms of CPU on top of the runtime's own imports:
36 ms of wall time on a whole core, 0.6 s at 128 MB's 7% (bench/results.md, section 8), against 5 s
for boto3 there. Nothing imports it before the first call needs it (the first fan-out or auto
read; at init in the PutMetricData mode, where every request calls).

* **Credentials** as Lambda provides them: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
  ``AWS_SESSION_TOKEN``, else the container credentials endpoint (``AWS_CONTAINER_CREDENTIALS_FULL_URI``
  or ``_RELATIVE_URI``, with ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` or ``_TOKEN``), fetched again
  15 minutes before they expire, as botocore does.
* **Endpoints** as boto3 resolves them: ``AWS_ENDPOINT_URL_<SERVICE>``, then ``AWS_ENDPOINT_URL``
  (unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``), else the region's partition, FIPS and dual-stack
  included.
* **Connections** are kept alive and reused, across invocations too. One idle longer than a NAT
  gateway keeps a flow (350 s), or that the service closed while the environment was frozen (its
  socket is readable: the close arrived), is dropped before use, and a request on a kept-alive
  connection that fails before any answer came back is sent once more on a new one: it never
  reached the service. Nothing else is retried.
* **Every call is bounded**: connect within min(timeout, 3 s), and the whole call (connect, TLS,
  send, headers, body) ends by its deadline, the timeout cut to what the caller has left, whatever
  the server does: a watchdog shuts the socket at the deadline (watchdog.py), so a server that
  trickles bytes cannot stretch it. No answer longer than the service's limit is read (Invoke's
  6 MB, less elsewhere): memory stays bounded.

The jobs, a module each: ``errors`` (a failed call, named as botocore names it), ``endpoints``
(services, region, URLs), ``credentials``, ``connections`` (deadline, TLS, bounded answers, with
``watchdog``), ``sigv4``, ``client`` (signed calls on kept-alive connections), ``json_protocol``.
"""

from __future__ import annotations

from .client import AwsClient, LazyClient, Response
from .credentials import Credentials, CredentialSource
from .endpoints import CLOUDWATCH, CODEDEPLOY, LAMBDA, Service, endpoint_url, region
from .errors import AwsError, error_code, error_reason
from .json_protocol import cloudwatch_call, codedeploy_call, json_call

__all__ = [
    "CLOUDWATCH",
    "CODEDEPLOY",
    "LAMBDA",
    "AwsClient",
    "AwsError",
    "CredentialSource",
    "Credentials",
    "LazyClient",
    "Response",
    "Service",
    "cloudwatch_call",
    "codedeploy_call",
    "endpoint_url",
    "error_code",
    "error_reason",
    "json_call",
    "region",
]
