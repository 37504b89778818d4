/* rbench: the timing-critical helpers of bench/run.sh, in one static
 * binary (compiled by the script with gcc -O2 -static).
 *
 *   rbench startup ROUNDS -- NAME NS [VAR=VALUE...] ARGV... ; NAME NS ... ; ...
 *       Runs every ARGV once per round, interleaved (a fresh random order
 *       each round), NS=1 as PID 1 of a new PID namespace (clone CLONE_NEWPID),
 *       NS=0 as a plain child; prints "NAME<TAB>ns<TAB>status" per run. The
 *       environment is PATH alone, plus the target's VAR=VALUE words (the
 *       words before ARGV that contain '='; ARGV[0] is a path).
 *   rbench ns PIDFD ARGV...
 *       Runs ARGV as PID 1 of a new PID namespace, writes its host pid to
 *       PIDFD, waits, exits with its status. Dies with its parent.
 *   rbench sigchild
 *       The child under test: a SIGUSR1 handler writes CLOCK_MONOTONIC (ns)
 *       as 8 bytes to fd $RB_FD; first writes -1 (ready), then pause()s.
 *   rbench siglat ROUNDS NAME:PID:FD ...
 *       ROUNDS interleaved rounds (random order each round) of round trips: kill(PID, SIGUSR1), read the
 *       handler's timestamp from FD; prints "NAME<TAB>one-way ns<TAB>rtt ns"
 *       (-1 when no reply came within 1 s).
 *   rbench orphans N
 *       Writes "ready" to fd $RB_FD, reads one byte from stdin (go), then
 *       has one maker per CPU clone N orphans in all as fast as they can;
 *       writes "start_ns last_ns eagain" to fd $RB_FD, then waits for EOF
 *       on stdin (so its init stays up) and exits 0.
 *   rbench burst N
 *       Writes "ready" to fd $RB_FD, reads one byte from stdin (go), then
 *       forks an intermediate process that forks N children which exit at
 *       once. The intermediate never waits for them: once all N are zombies
 *       it takes CLOCK_MONOTONIC (the handover) and _exits, which hands the
 *       N zombies to the init at once. When the intermediate is dead, writes
 *       "handover_ns dead_ns zombies eagain" to fd $RB_FD (or "error WHAT"),
 *       then waits for EOF on stdin and exits 0.
 *   rbench reaper ARGV...
 *       The floor: a bare C init. Forks ARGV, then waitpid(-1) in a loop;
 *       exits with the main child's status.
 *
 * Every wait has a deadline (alarm), so nothing here can hang the script.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A fixed-seed xorshift: every round runs the targets in a fresh random
 * order (so no init always follows the same one), reproducibly. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void shuffle(int *order, int n) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int j = (int)(rng % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void die(const char *what) {
    fprintf(stderr, "rbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void on_alarm(int sig) { (void)sig; }

/* SIGALRM interrupts blocking calls (no SA_RESTART). */
static void arm_alarm_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
}

static void unblock_all(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int env_fd(void) {
    const char *s = getenv("RB_FD");
    if (!s) {
        fprintf(stderr, "rbench: RB_FD not set\n");
        exit(2);
    }
    return atoi(s);
}

/* fork, or a fork into a new PID namespace (the child is its PID 1). */
static pid_t fork_ns(int ns) {
    if (!ns) return fork();
    return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
}

/* ---------------------------------------------------------------- startup */

struct target {
    const char *name;
    int ns;
    char *env[8]; /* the target's VAR=VALUE words, NULL-terminated */
    char **argv;
};

static int cmd_startup(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: rbench startup ROUNDS -- NAME NS [VAR=VALUE...] ARGV... ; ...\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    struct target t[64];
    int n = 0;
    for (int i = 4; i < argc && n < 64;) {
        if (i + 2 >= argc) break;
        t[n].name = argv[i];
        t[n].ns = atoi(argv[i + 1]);
        int j = i + 2, e = 0;
        while (j < argc && e < 7 && strchr(argv[j], '=')) t[n].env[e++] = argv[j++];
        t[n].env[e] = NULL;
        t[n].argv = &argv[j];
        while (j < argc && strcmp(argv[j], ";") != 0) j++;
        argv[j < argc ? j : argc] = NULL; /* argv[argc] is NULL already */
        n++;
        i = j + 1;
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) die("open /dev/null");
    /* PATH, then the target's own variables (at most 7), then NULL. */
    char *envp[10] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    arm_alarm_handler();
    int order[64];
    for (int r = 0; r < rounds; r++) {
        shuffle(order, n);
        for (int k = 0; k < n; k++) {
            struct target *x = &t[order[k]];
            int e = 0;
            for (; x->env[e]; e++) envp[1 + e] = x->env[e];
            envp[1 + e] = NULL;
            int64_t t0 = now_ns();
            pid_t pid = fork_ns(x->ns);
            if (pid < 0) die("fork");
            if (pid == 0) {
                if (x->ns) setsid(); /* as runc does for a container's init */
                dup2(devnull, 0);
                dup2(devnull, 1);
                dup2(devnull, 2);
                execve(x->argv[0], x->argv, envp);
                _exit(127);
            }
            int status = 0;
            alarm(10);
            pid_t w = waitpid(pid, &status, 0);
            int64_t t1 = now_ns();
            alarm(0);
            if (w != pid) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                printf("%s\t-1\ttimeout\n", x->name);
                continue;
            }
            printf("%s\t%lld\t%d\n", x->name, (long long)(t1 - t0), status);
        }
    }
    return 0;
}

/* --------------------------------------------------------------------- ns */

static int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

static int cmd_ns(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: rbench ns PIDFD ARGV...\n");
        return 2;
    }
    int pidfd = atoi(argv[2]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pid_t pid = fork_ns(1);
    if (pid < 0) die("clone(CLONE_NEWPID)");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        unblock_all();
        /* A container's init leads its own session (runc calls setsid). */
        if (getenv("RB_NO_SETSID") == NULL) setsid();
        if (pidfd > 2) close(pidfd);
        execvp(argv[3], &argv[3]);
        fprintf(stderr, "rbench ns: cannot run %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    dprintf(pidfd, "%d\n", (int)pid);
    close(pidfd);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid");
    }
    return exit_code(status);
}

/* --------------------------------------------------------------- sigchild */

static int reply_fd = -1;

static void on_usr1(int sig) {
    (void)sig;
    int64_t t = now_ns();
    int saved = errno;
    (void)!write(reply_fd, &t, sizeof t);
    errno = saved;
}

static __attribute__((noreturn)) void cmd_sigchild(void) {
    reply_fd = env_fd();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    unblock_all();
    int64_t ready = -1;
    if (write(reply_fd, &ready, sizeof ready) != sizeof ready) die("write ready");
    for (;;) pause();
}

/* ----------------------------------------------------------------- siglat */

static int cmd_siglat(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: rbench siglat ROUNDS NAME:PID:FD ...\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    int n = argc - 3;
    char *name[64];
    pid_t pid[64];
    int fd[64];
    if (n > 64) n = 64;
    for (int i = 0; i < n; i++) {
        char *s = argv[3 + i];
        char *a = strchr(s, ':');
        char *b = a ? strchr(a + 1, ':') : NULL;
        if (!b) {
            fprintf(stderr, "rbench siglat: bad target %s\n", s);
            return 2;
        }
        *a = 0;
        name[i] = s;
        pid[i] = atoi(a + 1);
        fd[i] = atoi(b + 1);
    }
    int order[64];
    for (int r = 0; r < rounds; r++) {
        shuffle(order, n);
        for (int k = 0; k < n; k++) {
            int i = order[k];
            int64_t t0 = now_ns();
            if (kill(pid[i], SIGUSR1) < 0) die("kill");
            struct pollfd p = {.fd = fd[i], .events = POLLIN};
            int64_t stamp = -1;
            int ok = poll(&p, 1, 1000) == 1 && read(fd[i], &stamp, 8) == 8;
            int64_t t1 = now_ns();
            if (ok)
                printf("%s\t%lld\t%lld\n", name[i], (long long)(stamp - t0), (long long)(t1 - t0));
            else
                printf("%s\t-1\t-1\n", name[i]);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- orphans */

static int exit_at_once(void *arg) {
    (void)arg;
    return 0;
}

struct worker {
    long n;
    int report;
};

/* One orphan maker: n orphans, one after the other. Each is born the
 * init's child (CLONE_PARENT: our parent is the init) and exits at once.
 * It shares our memory (CLONE_VM) on a stack of its own, and we wait for
 * its exit (CLONE_VFORK) before making the next, so making one costs no
 * page-table copy. Writes how often clone failed for lack of pids. */
static int orphan_worker(void *arg) {
    struct worker *w = arg;
    static char stack[16384] __attribute__((aligned(16)));
    long eagain = 0;
    for (long i = 0; i < w->n;) {
        pid_t p = clone(exit_at_once, stack + sizeof stack,
                        CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, NULL);
        if (p < 0) {
            if (errno != EAGAIN && errno != ENOMEM) _exit(2);
            eagain++;
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        i++;
    }
    if (write(w->report, &eagain, sizeof eagain) != sizeof eagain) _exit(2);
    _exit(0);
}

static int cmd_orphans(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rbench orphans N\n");
        return 2;
    }
    long n = atol(argv[2]);
    int fd = env_fd();
    unblock_all();
    arm_alarm_handler();
    /* The driver waits for this (and for the init to sleep) before it reads
     * the init's CPU time and switches, so the init's start-up is not
     * counted as reaping. */
    if (dprintf(fd, "ready\n") < 0) die("write ready");
    char go;
    alarm(60);
    if (read(0, &go, 1) != 1) return 3;
    alarm(0);
    /* One maker per CPU, all at once, so that every CPU makes orphans and
     * what the init spends on them is taken from the makers: the rate then
     * shows the init's cost, not just how fast one process can clone.
     * Each maker is itself the init's child (CLONE_PARENT), so that its
     * orphans are the init's too; they report on a pipe, whose EOF says
     * that the last one is done. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    if (cpus > 64) cpus = 64;
    int pipefd[2];
    if (pipe(pipefd) < 0) die("pipe");
    static char stack[65536] __attribute__((aligned(16)));
    int64_t start = now_ns();
    for (long k = 0; k < cpus; k++) {
        struct worker w = {n / cpus + (k < n % cpus), pipefd[1]};
        /* No CLONE_VM: the maker gets a copy of `w` and of the stack. */
        if (clone(orphan_worker, stack + sizeof stack, CLONE_PARENT | SIGCHLD, &w) < 0)
            die("clone a maker");
    }
    close(pipefd[1]);
    long eagain = 0, one;
    alarm(120);
    ssize_t got;
    while ((got = read(pipefd[0], &one, sizeof one)) == sizeof one) eagain += one;
    if (got != 0) die("read the makers' reports");
    alarm(0);
    int64_t last = now_ns();
    dprintf(fd, "%lld %lld %ld\n", (long long)start, (long long)last, eagain);
    alarm(120);
    while (read(0, &go, 1) > 0) {
    }
    return 0;
}

/* ------------------------------------------------------------------ burst */

/* The intermediate of `rbench burst`: forks n children that _exit at once,
 * never waits for them (they stay its zombies), and once every one is a
 * zombie writes {handover_ns, zombies, eagain} to fd and _exits: its exit
 * re-parents all of them to the init in one go, so what follows is the
 * init's reaping alone, not the fork rate. */
static __attribute__((noreturn)) void burst_intermediate(long n, int fd) {
    pid_t *kid = calloc((size_t)n, sizeof *kid);
    if (!kid) _exit(2);
    /* SIG_DFL, not SIG_IGN (which would have the kernel reap them here), and
     * blocked: each child turning zombie leaves SIGCHLD pending, so the wait
     * below sleeps until the next one without a lost wake-up. */
    signal(SIGCHLD, SIG_DFL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    long forked = 0, eagain = 0;
    int64_t deadline = now_ns() + 20000000000LL;
    while (forked < n) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        if (p < 0) {
            if (errno != EAGAIN && errno != ENOMEM) _exit(2);
            /* Out of pids: our own zombies hold the ones we took, so only
             * someone else can free more; retry for a while, then hand over
             * what we have (the driver divides by the count we report). */
            eagain++;
            if (now_ns() > deadline) break;
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        kid[forked++] = p;
    }
    /* Every child a zombie: waitid(WNOWAIT) tells without reaping it. Check,
     * then wait for SIGCHLD (pending if one turned zombie since), check
     * again; children mostly die in fork order, so this is O(n) checks. */
    const struct timespec tick = {0, 100000000};
    for (long i = 0; i < forked;) {
        siginfo_t si;
        si.si_pid = 0;
        if (waitid(P_PID, (id_t)kid[i], &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == kid[i]) {
            i++;
            continue;
        }
        if (now_ns() > deadline) _exit(3);
        sigtimedwait(&chld, NULL, &tick);
    }
    int64_t rec[3] = {now_ns(), forked, eagain};
    (void)!write(fd, rec, sizeof rec);
    _exit(0);
}

static int cmd_burst(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rbench burst N\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (n < 1) n = 1;
    int fd = env_fd();
    unblock_all();
    arm_alarm_handler();
    signal(SIGCHLD, SIG_DFL);
    if (dprintf(fd, "ready\n") < 0) die("write ready");
    char go;
    alarm(60);
    if (read(0, &go, 1) != 1) return 3;
    alarm(0);
    int rec_pipe[2];
    if (pipe(rec_pipe) < 0) die("pipe");
    pid_t mid = fork();
    if (mid < 0) die("fork");
    if (mid == 0) {
        close(rec_pipe[0]);
        burst_intermediate(n, rec_pipe[1]);
    }
    close(rec_pipe[1]);
    /* waitpid returns once the intermediate is a zombie: by then every one
     * of its children is the init's (or, if the init ignores SIGCHLD or has
     * SA_NOCLDWAIT, released or being released by the exiting intermediate). */
    int status;
    alarm(60);
    pid_t w = waitpid(mid, &status, 0);
    int64_t dead = now_ns();
    alarm(0);
    int64_t rec[3];
    if (w != mid) {
        kill(mid, SIGKILL);
        dprintf(fd, "error intermediate-timeout\n");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        dprintf(fd, "error intermediate-status-%d\n", status);
    } else if (read(rec_pipe[0], rec, sizeof rec) != sizeof rec) {
        dprintf(fd, "error intermediate-record\n");
    } else {
        dprintf(fd, "%lld %lld %lld %lld\n", (long long)rec[0], (long long)dead, (long long)rec[1],
                (long long)rec[2]);
    }
    alarm(120);
    while (read(0, &go, 1) > 0) {
    }
    return 0;
}

/* ----------------------------------------------------------------- reaper */

static int cmd_reaper(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rbench reaper ARGV...\n");
        return 2;
    }
    pid_t main_pid = fork();
    if (main_pid < 0) die("fork");
    if (main_pid == 0) {
        execvp(argv[2], &argv[2]);
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t w = waitpid(-1, &status, 0);
        if (w == main_pid) return exit_code(status);
        if (w < 0 && errno == ECHILD) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: rbench startup|ns|sigchild|siglat|orphans|burst|reaper ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "startup")) return cmd_startup(argc, argv);
    if (!strcmp(cmd, "ns")) return cmd_ns(argc, argv);
    if (!strcmp(cmd, "sigchild")) cmd_sigchild();
    if (!strcmp(cmd, "siglat")) return cmd_siglat(argc, argv);
    if (!strcmp(cmd, "orphans")) return cmd_orphans(argc, argv);
    if (!strcmp(cmd, "burst")) return cmd_burst(argc, argv);
    if (!strcmp(cmd, "reaper")) return cmd_reaper(argc, argv);
    fprintf(stderr, "rbench: unknown command %s\n", cmd);
    return 2;
}
