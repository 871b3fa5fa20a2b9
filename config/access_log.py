"""gunicorn's access-log line, without the query string or the Referer: entry links carry
the participant's Prolific id in their query, and a Referer can repeat it. Plain module
(no Django), read by deploy/gunicorn.conf.py and the demo's command line."""

ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
