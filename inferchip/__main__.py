from inferchip.cli import main

main()
