# gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`
import multiprocessing
import os

from config.access_log import ACCESS_LOG_FORMAT

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# gthread that records how long each request waited for a thread, so that an overloaded
# process sheds load with 503s instead of queueing it (config/load_shedding.py).
worker_class = "config.load_shedding.QueueTimedThreadWorker"
# One thread per process by default: a label request is CPU-bound Python around short
# database round trips, and threads of one process share its GIL, so a thread holding the
# study's draw locks waited for the GIL while its siblings ran, and every draw of the study
# waited behind it (README, "Load over HTTP", has the figures). Raise it where the
# database is far away (each label waits on about ten round trips) or raise
# WEB_CONCURRENCY.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 30
# Idle keep-alive connections stay open longer than a load balancer's usual 60 s idle
# timeout, so the balancer closes them, never gunicorn under a request in flight.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# No recycling by default: a worker restarted for its request count closes the kept-alive
# connections it holds, and a client sending on one at that instant gets no answer at all.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = "-"
# No query strings or Referer in the log: entry links carry Prolific ids.
access_log_format = ACCESS_LOG_FORMAT
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 24+ opens a control socket under ~/.gunicorn/ by default: outside the project,
# and nothing here uses it (signals manage the workers).
control_socket_disable = True
