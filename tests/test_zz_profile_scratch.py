import cProfile, pstats, json, time, uuid, io
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.collection.test_api import _enrolled_client, _label
from tests.factories import study_make


@pytest.mark.django_db(transaction=True)
def test_profile():
    from tests.factories import stimulus_set_make
    ss = stimulus_set_make(prompts=40)
    study = study_make(stimulus_set=ss, labels_per_annotator=500, replication_factor=500)
    K=40
    clients = [_enrolled_client(study) for _ in range(K)]
    opened = [c.post(reverse("collection_api:next", args=[study.slug])).json() for c in clients]
    ids = [o["pair"]["assignment_id"] for o in opened]
    def one(i):
        c = clients[i % K]
        r = _label(c, study, {"assignment_id": ids[i % K], "submission_id": str(uuid.uuid4()), "choice": "left", "strength": 2})
        assert r.status_code == 201, r.content
        ids[i % K] = r.json()["next"]["pair"]["assignment_id"]
    for i in range(K): one(i)
    with CaptureQueriesContext(connection) as q:
        one(K)
    print("\nQUERIES", len(q.captured_queries))
    for x in q.captured_queries: print("  ", x["sql"][:160])
    n=5*K
    t=time.perf_counter()
    for i in range(K+1, n): one(i)
    print("ms/label", (time.perf_counter()-t)/n*1000)
    pr=cProfile.Profile(); pr.enable()
    for i in range(n, 2*n): one(i)
    pr.disable()
    s=io.StringIO(); pstats.Stats(pr,stream=s).sort_stats("cumulative").print_stats(60); print(s.getvalue()[:12000])
    s=io.StringIO(); pstats.Stats(pr,stream=s).sort_stats("tottime").print_stats(30); print(s.getvalue()[:6000])
