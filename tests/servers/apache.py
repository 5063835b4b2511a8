"""A private Apache 2.4 instance (Debian package `apache2`) for a server of the matrix: its own
configuration file, pid file, logs and runtime folder in the workdir, modules loaded by path from
/usr/lib/apache2/modules, listening on 127.0.0.1 at a free port only. Nothing under /etc/apache2
is read. Started as root in the foreground (`-DFOREGROUND`), its workers run as www-data. The
prefork MPM because mod_php needs it."""

from __future__ import annotations

import pathlib
import subprocess
import time
import urllib.error
import urllib.request

from .base import free_port
from .postgres import stop_process, tail

MODULES = pathlib.Path("/usr/lib/apache2/modules")

TEMPLATE = """\
ServerRoot {workdir}
DefaultRuntimeDir {run}
PidFile {run}/apache2.pid
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User www-data
Group www-data
{modules}
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
Timeout 60
KeepAlive On
ErrorLog {workdir}/apache-error.log
LogLevel warn
LogFormat "%h \\"%r\\" %>s %b %D" short
CustomLog {workdir}/apache-access.log short
<Directory />
  AllowOverride None
  Require all denied
</Directory>
{body}
"""


class Apache:
    """`body` is the site's part of the configuration; `modules` are names like "proxy_http"."""

    def __init__(self, workdir: pathlib.Path, body: str, modules: list[str],
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = workdir / "apache-error.log"
        run = workdir / "apache-run"
        run.mkdir()
        loads = "\n".join(f"LoadModule {name}_module {module_file(name)}"
                          for name in ["mpm_prefork", "authz_core", *modules])
        conf = workdir / "apache2.conf"
        conf.write_text(TEMPLATE.format(workdir=workdir, run=run, port=self.port, modules=loads,
                                        body=body.replace("{port}", str(self.port))))
        check = subprocess.run(["apache2", "-f", conf, "-t"], capture_output=True, text=True,
                               check=False)
        if check.returncode != 0:
            raise RuntimeError(f"bad Apache configuration {conf}:\n{check.stderr}")
        self.proc = subprocess.Popen(
            ["apache2", "-f", conf, "-DFOREGROUND"], cwd=workdir, start_new_session=True,
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})},
            stdout=(workdir / "apache.out").open("ab"), stderr=subprocess.STDOUT,
        )

    def wait(self, url: str, ready: set[int], timeout: float = 60) -> None:
        """Return when `url` answers with a status in `ready`; RuntimeError after `timeout`."""
        deadline = time.monotonic() + timeout
        status = 0
        while status not in ready:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} answered {status or 'nothing'}; {self.log}:\n"
                                   f"{tail(self.log)}")
            time.sleep(0.1)
            status = http_status(url)

    def stop(self) -> None:
        stop_process(self.proc)


def module_file(name: str) -> pathlib.Path:
    """mod_NAME.so; mod_php is libphp8.2.so (whichever PHP version is installed)."""
    if name == "php":
        return next(MODULES.glob("libphp*.so"), MODULES / "libphp8.2.so")
    return MODULES / f"mod_{name}.so"


def http_status(url: str, method: str = "GET", headers: dict[str, str] | None = None,
                body: bytes | None = None) -> int:
    """The HTTP status `url` answers with, 0 when nothing answers."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0

