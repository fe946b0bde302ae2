"""Lambda's prices, the one place every estimate reads them from (us-east-1, first tier)."""

PRICES_AS_OF = "2026-11 (first pricing tier, us-east-1)"
PRICES_SOURCE = "https://aws.amazon.com/lambda/pricing/"
REQUEST_PRICE = 0.20 / 1_000_000
DURATION_PRICE = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
"""On-demand duration, per GB-second."""
PROVISIONED_PRICE = {"x86_64": 0.0000041667, "arm64": 0.0000033334}
"""Provisioned Concurrency, per GB-second provisioned (the duration it serves is billed on top)."""
PROVISIONED_DURATION_PRICE = {"x86_64": 0.0000097222, "arm64": 0.0000077778}
"""The duration of requests a provisioned environment serves, per GB-second."""
SNAPSTART_CACHE_PRICE = 0.0000015046
"""SnapStart (Python, .NET): caching a published version's snapshot, per GB-second of its memory
while the version is active (the pricing page gives one figure; taken for both architectures)."""
SNAPSTART_RESTORE_PRICE = 0.0001397998
"""SnapStart (Python, .NET): each restore of an environment from the snapshot, per GB of memory."""
