import lambdawarmer


@lambdawarmer.warmer
def handler(event, context): ...


@lambdawarmer.warmer(flag="am_i_a_warmer", concurrency="how_many_lambdas", delay=150, send_metric=True)
def other_handler(event, context): ...
