#!/usr/bin/env python3
#-----------------------------------------------------------------------
# daytimeserver.py
# The COS 333 lecture's daytime server (Author: Bob Dondero), as in
# ../../../shared/reference/protocols-and-peers.md section 4: iterative,
# one client at a time, asctime() + '\n', the server closes.
# One change for the benchmark: it binds 127.0.0.1 instead of '' so the
# benchmark never listens beyond loopback.
#-----------------------------------------------------------------------

import os
import sys
import socket
import time

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
                    flo = sock.makefile(mode='w', encoding='ascii')
                    flo.write(time.asctime(time.localtime()) + '\n')
                    flo.flush()
            except Exception as ex:
                print(ex, file=sys.stderr)

    except Exception as ex:
        print(ex, file=sys.stderr)
        sys.exit(1)

if __name__ == '__main__':
    main()
