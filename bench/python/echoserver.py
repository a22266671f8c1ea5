#!/usr/bin/env python3
#-----------------------------------------------------------------------
# echoserver.py
# The COS 333 lecture's echo server (Author: Bob Dondero), as in
# ../../../shared/reference/protocols-and-peers.md section 4: iterative,
# reads ONE UTF-8 line, writes it back, closes. It therefore cannot serve
# a request/response benchmark (one request per connection) nor a bulk
# stream: bench/compare.py marks those cells n/a and measures the stream
# mode ThreadingTCPServer variant in socketserver_servers.py instead.
# One change for the benchmark: it binds 127.0.0.1 instead of ''.
#-----------------------------------------------------------------------

import os
import sys
import socket

def handle_client(sock):
    flo = sock.makefile(mode='r', encoding='utf-8')
    line = flo.readline()
    if line == '':
        print('The echo client crashed')
        return
    print('Read from client: ' + line, end='')
    flo = sock.makefile(mode='w', encoding='utf-8')
    flo.write(line)
    flo.flush()
    print('Wrote to client: ' + line, end='')

def main():
    if len(sys.argv) != 2:
        print('Usage: python %s port' % sys.argv[0])
        sys.exit(1)

    try:
        port = int(sys.argv[1])
        server_sock = socket.socket()
        print('Opened server socket')
        if os.name != 'nt':
            server_sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server_sock.bind(('127.0.0.1', port))
        print('Bound server socket to port')
        server_sock.listen()
        print('Listening')

        while True:
            try:
                sock, client_addr = server_sock.accept()
                with sock:
                    print('Accepted connection')
                    print('Opened socket')
                    print('Server IP addr and port:',
                        sock.getsockname())
                    print('Client IP addr and port:', client_addr)
                    handle_client(sock)
            except Exception as ex:
                print(ex, file=sys.stderr)

    except Exception as ex:
        print(ex, file=sys.stderr)
        sys.exit(1)

if __name__ == '__main__':
    main()
