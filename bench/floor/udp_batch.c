/* udp_batch.c - floor UDP echo (RFC 862) / daytime (RFC 867) server: one
 * thread, blocking recvmmsg batches of up to 64 datagrams (MSG_WAITFORONE),
 * then one sendmmsg answering every sender. echo returns each payload;
 * daytime answers any datagram (even an empty one) with an asctime-style
 * line ("Wed Feb 11 16:32:10 2026\n", local time, cached per second).
 * No limits, logging or policy.
 *
 * Build: cc -O2 -Wall -Wextra -o udp_batch udp_batch.c
 * Run:   ./udp_batch echo|daytime HOST PORT   (HOST numeric IPv4 or IPv6)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXDG 65536

static char bufs[BATCH][MAXDG];
static struct sockaddr_storage peers[BATCH];
static struct iovec iovs[BATCH];
static struct mmsghdr msgs[BATCH];

static void die(const char *what)
{
    fprintf(stderr, "udp_batch: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    int echo = argc == 4 && strcmp(argv[1], "echo") == 0;
    if (argc != 4 || (!echo && strcmp(argv[1], "daytime") != 0)) {
        fprintf(stderr, "usage: udp_batch echo|daytime HOST PORT\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    tzset();
    struct addrinfo hints = {0}, *ai;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(argv[2], argv[3], &hints, &ai);
    if (rc) {
        fprintf(stderr, "udp_batch: %s %s: %s\n", argv[2], argv[3], gai_strerror(rc));
        return 1;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    freeaddrinfo(ai);

    char line[64];
    struct iovec liov = { line, 0 };
    time_t cached = (time_t)-1;
    int n = BATCH; /* entries [0, n) need (re)initialising */
    for (;;) {
        for (int i = 0; i < n; i++) {
            iovs[i].iov_base = bufs[i];
            iovs[i].iov_len = MAXDG;
            msgs[i].msg_hdr = (struct msghdr){
                .msg_name = &peers[i], .msg_namelen = sizeof peers[i],
                .msg_iov = &iovs[i], .msg_iovlen = 1,
            };
        }
        n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) {
            n = 0;
            continue; /* EINTR or a transient error: just receive again */
        }
        if (!echo) {
            time_t now = time(NULL);
            if (now != cached) {
                struct tm tm;
                localtime_r(&now, &tm);
                liov.iov_len = strftime(line, sizeof line, "%a %b %e %H:%M:%S %Y\n", &tm);
                cached = now;
            }
        }
        for (int i = 0; i < n; i++) {
            if (echo)
                iovs[i].iov_len = msgs[i].msg_len;
            else
                msgs[i].msg_hdr.msg_iov = &liov;
        }
        for (int off = 0; off < n;) { /* an error belongs to msgs[off]: skip it */
            int s = sendmmsg(fd, msgs + off, (unsigned)(n - off), 0);
            if (s < 0 && errno == EINTR)
                continue;
            off += s > 0 ? s : 1;
        }
    }
}
