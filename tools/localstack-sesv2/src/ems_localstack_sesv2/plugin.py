"""The entry point LocalStack loads (group `localstack.aws.provider`, name `sesv2:default`)."""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


# LocalStack's decorator is untyped; the factory it wraps is typed here
@aws_provider(api="sesv2")  # type: ignore[untyped-decorator]
def sesv2() -> Service:
    """LocalStack's `sesv2` service, served by this package's provider."""
    # Imported here, as LocalStack's own providers are: loading the plugin list stays cheap
    from ems_localstack_sesv2.provider import Sesv2Provider  # noqa: PLC0415

    return Service.for_provider(Sesv2Provider())
