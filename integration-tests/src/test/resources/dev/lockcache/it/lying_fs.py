#!/usr/bin/python3
"""A passthrough FUSE filesystem whose POSIX lock operation is scripted, for lockcache's probe tests.

Usage: lying_fs.py ROOT MOUNTPOINT MODE, where MODE is
  lie     -- every lock request (F_SETLK, F_SETLKW, F_GETLK) answers success and locks nothing;
  refuse  -- every lock request fails with ENOLCK, as a filesystem without locking does.
Runs in the foreground and prints READY once the kernel has initialised the mount.

fusepy (libfuse 2) has no flock handler, so flock(2) on this filesystem never reaches it.
"""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class Scripted(Operations):
    use_ns = True

    def __init__(self, root, mode):
        self.root = os.path.realpath(root)
        self.mode = mode

    def _full(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def init(self, path):
        print('READY', flush=True)

    # ---- the point of this filesystem ----
    def lock(self, path, fh, cmd, lock):
        if self.mode == 'lie':
            return 0
        raise FuseOSError(errno.ENOLCK)

    # ---- plain passthrough ----
    def access(self, path, amode):
        if not os.access(self._full(path), amode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._full(path)) if fh is None else os.fstat(fh)
        except OSError as e:
            raise FuseOSError(e.errno)
        keys = ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_ino')
        attrs = {k: getattr(st, k) for k in keys}
        for k in ('st_atime', 'st_mtime', 'st_ctime'):
            attrs[k] = getattr(st, k + '_ns') if hasattr(st, k + '_ns') else getattr(st, k)
        return attrs

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._full(path))

    def statfs(self, path):
        st = os.statvfs(self._full(path))
        keys = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag',
                'f_frsize', 'f_namemax')
        return {k: getattr(st, k) for k in keys}

    def _os(self, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise FuseOSError(e.errno)

    def mkdir(self, path, mode):
        return self._os(os.mkdir, self._full(path), mode)

    def rmdir(self, path):
        return self._os(os.rmdir, self._full(path))

    def unlink(self, path):
        return self._os(os.unlink, self._full(path))

    def rename(self, old, new):
        return self._os(os.rename, self._full(old), self._full(new))

    def link(self, target, source):
        return self._os(os.link, self._full(source), self._full(target))

    def chmod(self, path, mode):
        return self._os(os.chmod, self._full(path), mode)

    def chown(self, path, uid, gid):
        return self._os(os.chown, self._full(path), uid, gid)

    def utimens(self, path, times=None):
        return self._os(os.utime, self._full(path), None, None) if times is None else self._os(
            lambda p: os.utime(p, ns=times), self._full(path))

    def truncate(self, path, length, fh=None):
        if fh is not None:
            return self._os(os.ftruncate, fh, length)
        return self._os(os.truncate, self._full(path), length)

    def open(self, path, flags):
        return self._os(os.open, self._full(path), flags)

    def create(self, path, mode, fi=None):
        return self._os(os.open, self._full(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        return self._os(os.pread, fh, size, offset)

    def write(self, path, data, offset, fh):
        return self._os(os.pwrite, fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return self._os(os.fsync, fh)

    def release(self, path, fh):
        return self._os(os.close, fh)


if __name__ == '__main__':
    root, mountpoint, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode not in ('lie', 'refuse'):
        sys.exit('mode must be lie or refuse, was ' + mode)
    FUSE(Scripted(root, mode), mountpoint, foreground=True, fsname='lockcache-scripted-' + mode,
         subtype='lockcache-scripted')
