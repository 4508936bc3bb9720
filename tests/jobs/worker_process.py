"""Start `flask --app webapp jobs worker` in this process, as `make run` does; for the worker-crash test.

With WORKER_CLOCK_AHEAD_SECONDS set, the worker's wall clock runs that far ahead (time_machine, as the
suite's `pinned_clock`): a worker started "after the dead one's lease ran out" without the test
sleeping through the lease. Only the wall clock moves; sleeps and timeouts are real."""

import os
import sys
import time

if __name__ == "__main__":
    ahead = float(os.environ.get("WORKER_CLOCK_AHEAD_SECONDS") or 0)
    if ahead:
        import time_machine

        time_machine.travel(time.time() + ahead, tick=True).start()
    from flask.cli import main

    sys.argv = ["flask", "--app", "webapp", "jobs", "worker", *sys.argv[1:]]
    main()
