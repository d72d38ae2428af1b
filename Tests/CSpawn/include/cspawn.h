// Process spawning for the CLI tests: posix_spawn with the GNU file actions that Swift's Glibc
// module does not import (close every inherited descriptor, change directory in the child).
#ifndef HEARTH_CSPAWN_H
#define HEARTH_CSPAWN_H

#include <spawn.h>
#include <sys/types.h>

/// Spawns `path` with `argv` and `envp` in `directory`; the child gets `stdin_fd`, `stdout_fd`
/// and `stderr_fd` as 0, 1 and 2 and no other descriptor of the parent, with no signal blocked.
/// Returns 0 or an errno value.
int hearth_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *directory,
                 int stdin_fd, int stdout_fd, int stderr_fd);

/// A pipe whose two ends are close-on-exec (pipe2 with O_CLOEXEC). Returns 0 or -1 with errno.
int hearth_pipe_cloexec(int fds[2]);

#endif
