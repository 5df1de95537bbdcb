import { spawnSync } from 'node:child_process';

/**
 * Installs Debian packages a test needs (tests run as root in CI; the Debian registry is
 * reachable where a tool's own downloads are not). The package lists may be missing or stale
 * on a fresh machine: on a first failure they are updated and the install tried once more.
 */
export function aptInstall(packages: string[], neededFor: string): void {
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (install().status === 0) return;
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  if (install().status !== 0) throw new Error(`could not install ${packages.join(' ')} with apt-get (${neededFor})`);
}
