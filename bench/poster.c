/* An open-loop HTTP poster for bench/pipeline.py: request n opens its own connection at
 * start + n / rate, whatever the server does, and is answered, refused or timed out on its own.
 *
 *   poster HOST PORT PATH RATE SECONDS TIMEOUT BODY_BEFORE BODY_AFTER PREFIX
 *
 * The body of request n is BODY_BEFORE + "PREFIX-n" + BODY_AFTER (the e-mail's local part).
 * Prints one line per request, in order: "n status microseconds", status 0 when there was
 * no answer (refused, reset, timed out), microseconds from the request's scheduled start to
 * the end of the answer. One thread on epoll: the Python poster it replaces spent about as
 * much CPU per post as a fifth of the Django view it measured, on the same two cores, and
 * answered the server's closing FIN late when it was starved of CPU, which gunicorn's sync
 * workers wait for (close_graceful).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int written;      /* bytes of the request sent */
    int length;       /* bytes of the request */
    char *request;
    char head[16];    /* the first bytes of the answer: "HTTP/1.1 201" */
    int got;
    double due;       /* scheduled start, seconds */
    int status;       /* -1 while waiting */
    double took;
} Post;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void finish(int epoll, Post *post, int status, double at) {
    if (post->fd >= 0) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, post->fd, NULL);
        close(post->fd);
        post->fd = -1;
    }
    free(post->request);
    post->request = NULL;
    post->status = status;
    post->took = at - post->due;
}

static int answer_status(Post *post) {
    /* "HTTP/1.1 201 ..." */
    if (post->got < 12 || strncmp(post->head, "HTTP/1.", 7) != 0) return 0;
    return atoi(post->head + 9);
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: poster HOST PORT PATH RATE SECONDS TIMEOUT BEFORE AFTER PREFIX\n");
        return 2;
    }
    const char *host = argv[1], *path = argv[3], *before = argv[7], *after = argv[8];
    const char *prefix = argv[9];
    int port = atoi(argv[2]);
    double rate = atof(argv[4]), seconds = atof(argv[5]), timeout = atof(argv[6]);
    long count = (long)(rate * seconds + 0.5);
    Post *posts = calloc(count > 0 ? count : 1, sizeof(Post));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &address.sin_addr);
    int epoll = epoll_create1(0);
    struct epoll_event events[256];
    double start = now();
    long next = 0, open_posts = 0, oldest = 0;

    while (next < count || open_posts > 0) {
        double t = now();
        for (; next < count && start + next / rate <= t; next++) {
            Post *post = &posts[next];
            post->due = start + next / rate;
            post->status = -1;
            char body[4096];
            int body_length = snprintf(body, sizeof body, "%s%s-%ld%s", before, prefix, next, after);
            post->length = asprintf(
                &post->request,
                "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                path, host, body_length, body);
            post->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (post->fd < 0) { finish(epoll, post, 0, t); continue; }
            int one = 1;
            setsockopt(post->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(post->fd, (struct sockaddr *)&address, sizeof address) < 0
                && errno != EINPROGRESS) {
                finish(epoll, post, 0, t);
                continue;
            }
            struct epoll_event wanted = {.events = EPOLLOUT, .data.u64 = (uint64_t)next};
            epoll_ctl(epoll, EPOLL_CTL_ADD, post->fd, &wanted);
            open_posts++;
        }
        double wait = next < count ? start + next / rate - now() : 0.05;
        int ready = epoll_wait(epoll, events, 256, wait > 0 ? (int)(wait * 1000) + 1 : 0);
        t = now();
        for (int i = 0; i < ready; i++) {
            Post *post = &posts[events[i].data.u64];
            if (post->fd < 0) continue;
            if (post->written < post->length) {
                int error = 0;
                socklen_t size = sizeof error;
                getsockopt(post->fd, SOL_SOCKET, SO_ERROR, &error, &size);
                ssize_t sent = error ? -1 : write(post->fd, post->request + post->written,
                                                  post->length - post->written);
                if (sent < 0 && errno != EAGAIN) { finish(epoll, post, 0, t); open_posts--; continue; }
                if (sent > 0) post->written += sent;
                if (post->written == post->length) {
                    struct epoll_event wanted = {.events = EPOLLIN, .data.u64 = events[i].data.u64};
                    epoll_ctl(epoll, EPOLL_CTL_MOD, post->fd, &wanted);
                }
                continue;
            }
            char buffer[8192];
            ssize_t got = read(post->fd, buffer, sizeof buffer);
            if (got > 0) {
                int keep = (int)sizeof post->head - post->got;
                if (keep > got) keep = (int)got;
                if (keep > 0) { memcpy(post->head + post->got, buffer, keep); post->got += keep; }
                continue;
            }
            if (got < 0 && errno == EAGAIN) continue;
            finish(epoll, post, got == 0 ? answer_status(post) : 0, t);  /* closed, or reset */
            open_posts--;
        }
        /* Time out what waited too long, oldest first (they were opened in order). */
        for (; oldest < next; oldest++) {
            Post *post = &posts[oldest];
            if (post->status >= 0) continue;
            if (t - post->due < timeout) break;
            finish(epoll, post, 0, t);
            open_posts--;
        }
    }
    for (long n = 0; n < count; n++)
        printf("%ld %d %.0f\n", n, posts[n].status, posts[n].took * 1e6);
    return 0;
}
