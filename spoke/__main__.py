from spoke.app import main

main()
