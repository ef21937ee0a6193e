# API Gateway HTTP API in front of the scheduler function: every route goes to the Flask app,
# which checks the API key (X-Api-Key) itself and answers 401 without it, except on the public
# routes (public_route_keys), which it serves without a key.

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = var.description
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "function" {
  api_id               = aws_apigatewayv2_api.this.id
  integration_type     = "AWS_PROXY"
  integration_uri      = var.function_invoke_arn
  integration_method   = "POST"
  timeout_milliseconds = var.integration_timeout_ms
  # zappa's handler reads the REST-style (1.0) event.
  payload_format_version = "1.0"
}

resource "aws_apigatewayv2_route" "default" {
  # checkov:skip=CKV_AWS_309: the API authorizes every request itself (X-Api-Key, compared in constant time with the key in Secrets Manager) and answers 401 with a JSON error; a Lambda authorizer would add a second function call per request for the same check.
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

# Routes that reach the function without an API key (the app lets exactly their paths through:
# EMS's one-click unsubscribe links, which mail clients open and POST to with no credential).
# Each has its own throttling (route_settings below), so a flood on them is answered 429 by API
# Gateway without using up what the rest of the API may take.
resource "aws_apigatewayv2_route" "public" {
  # checkov:skip=CKV_AWS_309: public on purpose: RFC 8058's one-click unsubscribe is a POST from the recipient's mail client and the page a GET from their browser, neither of which can carry a credential. The URL's token is sealed by EMS (AES-GCM), so only links EMS made do anything, and the route is throttled on its own.
  for_each = toset(var.public_route_keys)

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts every log group at rest; access logs carry no body, path, query string, address or key.
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  # Applies to each route without settings of its own: here $default, the keyed API.
  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  dynamic "route_settings" {
    for_each = aws_apigatewayv2_route.public

    content {
      route_key              = route_settings.value.route_key
      throttling_rate_limit  = var.public_throttling_rate_limit
      throttling_burst_limit = var.public_throttling_burst_limit
    }
  }

  # The request's path and query string are left out on purpose: they hold recipients'
  # addresses (/campaigns/{id}/recipients/{address}, /suppressions/{address}, ?page= tokens) and
  # unsubscribe tokens (/u/{token}), which must not sit in a log for log_retention_days. The
  # route key says which route served the request without them: "$default" (the keyed API) or
  # "ANY /u/{token}" (the links). tests/infra fails if the path or the query string comes back.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      protocol           = "$context.protocol"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      sourceIp           = "$context.identity.sourceIp"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*"
}
