"""npm packages for tests, installed once into the build directory (the npm registry is reachable
from our machines; node and npm come from Debian via scripts/bootstrap)."""
import os
import subprocess


def install(npm_dir, packages):
    """Installs `packages` (pinned `name@version`) into npm_dir unless each is there already."""
    def installed(spec):
        name = spec.rsplit("@", 1)[0]
        return os.path.exists(os.path.join(npm_dir, "node_modules", name, "package.json"))

    missing = [p for p in packages if not installed(p)]
    if missing:
        os.makedirs(npm_dir, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", npm_dir, *missing],
                       check=True, timeout=300)
