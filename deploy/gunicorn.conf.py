# gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`
import multiprocessing
import os

from config.access_log import ACCESS_LOG_FORMAT

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
# No query strings or Referer in the log: entry links carry Prolific ids.
access_log_format = ACCESS_LOG_FORMAT
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 24+ opens a control socket under ~/.gunicorn/ by default: outside the project,
# and nothing here uses it (signals manage the workers).
control_socket_disable = True
