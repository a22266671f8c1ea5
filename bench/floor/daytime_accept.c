/* daytime_accept.c - floor TCP daytime (RFC 867) server: one thread,
 * blocking accept loop; each connection gets one asctime-style line
 * ("Wed Feb 11 16:32:10 2026\n", local time, cached per second) in a
 * single send, then is closed. No limits, logging or policy.
 *
 * Build: cc -O2 -Wall -Wextra -o daytime_accept daytime_accept.c
 * Run:   ./daytime_accept HOST PORT      (HOST numeric IPv4 or IPv6)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "daytime_accept: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: daytime_accept HOST PORT\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    tzset();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct addrinfo hints = {0}, *ai;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc) {
        fprintf(stderr, "daytime_accept: %s %s: %s\n", argv[1], argv[2], gai_strerror(rc));
        return 1;
    }
    int one = 1;
    int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    freeaddrinfo(ai);

    char line[64];
    size_t len = 0;
    time_t cached = (time_t)-1;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue; /* EINTR, ECONNABORTED, EMFILE, ...: keep going */
        time_t now = time(NULL);
        if (now != cached) {
            struct tm tm;
            localtime_r(&now, &tm);
            len = strftime(line, sizeof line, "%a %b %e %H:%M:%S %Y\n", &tm);
            cached = now;
        }
        send(fd, line, len, MSG_NOSIGNAL);
        close(fd);
    }
}
