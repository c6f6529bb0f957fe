#!/usr/bin/python3
"""A lock peer that lockcache did not write, for the interop matrix.

Usage: peer_lock.py KIND PATH ACTION
  KIND   flock  -- fcntl.flock(fd, LOCK_EX), i.e. flock(2), as py-filelock's UnixFileLock does
         lockf  -- fcntl.lockf(fd, LOCK_EX), i.e. a classic POSIX fcntl record lock (F_SETLK/F_SETLKW)
         ofd    -- fcntl.fcntl(fd, F_OFD_SETLK/F_OFD_SETLKW, struct flock), a Linux open-file-description lock
  ACTION hold   -- take the lock (waiting), print HELD, wait for a line on stdin (or its end), release,
                   print RELEASED
         try    -- one non-blocking attempt: print ACQUIRED (and release) or BUSY
"""
import errno
import fcntl
import os
import struct
import sys


def ofd(fd, lock_type, wait):
    # struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding)
    cmd = fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK
    fcntl.fcntl(fd, cmd, struct.pack('@hhqqi4x', lock_type, os.SEEK_SET, 0, 0, 0))


def lock(kind, fd, wait):
    if kind == 'flock':
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    elif kind == 'lockf':
        fcntl.lockf(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    elif kind == 'ofd':
        ofd(fd, fcntl.F_WRLCK, wait)
    else:
        sys.exit('unknown kind ' + kind)


def unlock(kind, fd):
    if kind == 'flock':
        fcntl.flock(fd, fcntl.LOCK_UN)
    elif kind == 'lockf':
        fcntl.lockf(fd, fcntl.LOCK_UN)
    else:
        ofd(fd, fcntl.F_UNLCK, False)


def main():
    kind, path, action = sys.argv[1], sys.argv[2], sys.argv[3]
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    if action == 'hold':
        lock(kind, fd, True)
        print('HELD', flush=True)
        sys.stdin.readline()
        unlock(kind, fd)
        print('RELEASED', flush=True)
    elif action == 'try':
        try:
            lock(kind, fd, False)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                print('BUSY', flush=True)
                return
            raise
        unlock(kind, fd)
        print('ACQUIRED', flush=True)
    else:
        sys.exit('unknown action ' + action)


if __name__ == '__main__':
    main()
